"""Image intake: decode, validate and re-encode an identity image, or refuse it with a specific error.

Every refusal is a ``DocumentInvalid`` with a stable code and a message a partner or reviewer can act
on. The stored image is a fresh JPEG or PNG encoding of the decoded pixels (EXIF orientation applied
first), so EXIF, GPS, XMP, ICC profiles, text chunks and anything appended to the file are gone.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from kyc.exceptions import DocumentInvalid

ALLOWED_FORMATS = ("JPEG", "PNG", "BMP", "TIFF")  # what both vendors accept
MIN_SIDE, MAX_SIDE = 15, 8192
MAX_PIXELS = 40_000_000
STORED_MAX_SIDE = 4096  # the vendors' safe common profile (vendors.md C.1)
STORED_MAX_BYTES = 5 * 1024 * 1024  # base64 of this stays under Tencent's 7 MB
_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
_KNOWN_OTHERS = {
    b"GIF8": "GIF",
    b"%PDF": "PDF",
    b"RIFF": "WebP",
    b"<svg": "SVG",
    b"<?xml": "SVG/XML",
    b"PK\x03\x04": "ZIP",
}

ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow warns between 1x and 2x this and raises above 2x; _decode turns the warning into an error too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class NormalisedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    original_format: str
    original_sha256: str
    stored_sha256: str


def _refuse(code: str, message: str) -> DocumentInvalid:
    return DocumentInvalid(message, code=code)


def sniff_format(data: bytes) -> str:
    """The format named by the file's magic bytes; refuses anything not on the allow-list."""
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return name
    head = data[:16].lstrip().lower()
    other = next((name for magic, name in _KNOWN_OTHERS.items() if head.startswith(magic.lower())), None)
    what = f"{other} files are" if other else "The file is not a recognised image and is"
    raise _refuse("unsupported_format", f"{what} not accepted; send one of: {', '.join(ALLOWED_FORMATS)}.")


def _check_size(data: bytes) -> None:
    limit = settings.KYC_UPLOAD_MAX_BYTES
    if not data:
        raise _refuse("empty_file", "The file is empty.")
    if len(data) > limit:
        raise _refuse(
            "file_too_large", f"The file is {len(data) / 1048576:.1f} MB; the limit is {limit / 1048576:.0f} MB."
        )


def _check_dimensions(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
        raise _refuse(
            "bad_dimensions",
            f"The image is {width}x{height} px; each side must be between {MIN_SIDE} and {MAX_SIDE} px.",
        )
    if width * height > MAX_PIXELS:
        raise _refuse("decompression_bomb", f"The image has {width * height:,} pixels; the limit is {MAX_PIXELS:,}.")


def _decode(data: bytes, fmt: str) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; we make the warning an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[fmt])
            _check_dimensions(*image.size)
            if getattr(image, "n_frames", 1) > 1:
                raise _refuse("multiple_frames", "The file holds several images (pages or frames); send one image.")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse("decompression_bomb", "The image declares more pixels than we accept.") from None
        except UnidentifiedImageError:
            raise _refuse("corrupt_image", f"The file looks like {fmt} but cannot be decoded.") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _refuse("corrupt_image", f"The {fmt} file is truncated or corrupt and cannot be decoded.") from exc
    return image


def _to_clean_pixels(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        # Flatten transparency onto white, as a printed document would be.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I"):
        # 16-bit greyscale (scanners): scale to 8 bits rather than clipping everything to white.
        return image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def _encode(image: Image.Image, fmt: str, *, optimize: bool = True) -> tuple[bytes, str, str]:
    if max(image.size) > STORED_MAX_SIDE:
        image.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
    if fmt == "PNG":
        out = io.BytesIO()
        image.save(out, "PNG", optimize=False)
        if out.tell() <= STORED_MAX_BYTES:
            return out.getvalue(), "image/png", "png"
    for quality in (92, 85, 75, 65):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=optimize)
        if out.tell() <= STORED_MAX_BYTES:
            break
    return out.getvalue(), "image/jpeg", "jpg"


def image_normalise(data: bytes, *, optimize: bool = True) -> NormalisedImage:
    """Validate ``data`` and return the cleaned image, or raise ``DocumentInvalid``. ``optimize=False``
    skips the JPEG encoder's second pass (optimal Huffman tables): the same pixels in a few percent more
    bytes, for images stored once and never sent on, such as the portraits a vendor crops (on a 300x380
    portrait the pass tripled the encoding time)."""
    _check_size(data)
    fmt = sniff_format(data)
    image = _to_clean_pixels(_decode(data, fmt))
    content, content_type, extension = _encode(image, fmt, optimize=optimize)
    return NormalisedImage(
        content=content,
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        original_format=fmt,
        original_sha256=hashlib.sha256(data).hexdigest(),
        stored_sha256=hashlib.sha256(content).hexdigest(),
    )
