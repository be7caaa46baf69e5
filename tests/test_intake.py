"""The bad-image corpus: every refusal is specific, nothing is stored, nothing reaches a server error."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.urls import reverse
from PIL import Image, PngImagePlugin

from kyc.exceptions import DocumentInvalid
from kyc.models import AuditEvent, Document
from kyc.services.cases import case_reject
from kyc.services.documents import document_add
from kyc.services.intake import image_normalise
from kyc.storage import private_storage
from tests.conftest import image_bytes, stored_files

pytestmark = pytest.mark.django_db


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring any size, with a tiny (incomplete) image body: a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _frames(fmt: str) -> bytes:
    out = io.BytesIO()
    first, second = Image.new("RGB", (64, 64), "red"), Image.new("RGB", (64, 64), "blue")
    first.save(out, fmt, save_all=True, append_images=[second])
    return out.getvalue()


def _truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", size=(400, 300), quality=90)
    return data[: len(data) // 2]


def _corrupt_png() -> bytes:
    data = bytearray(image_bytes("PNG", size=(200, 100)))
    data[60:90] = b"\xde\xad" * 15  # scramble the compressed body
    return bytes(data)


BAD_FILES = {
    "gif": (image_bytes("GIF"), "unsupported_format", "GIF files are not accepted"),
    "svg_with_script": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "unsupported_format",
        "SVG",
    ),
    "pdf": (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "unsupported_format", "PDF files are not accepted"),
    "webp": (image_bytes("WEBP"), "unsupported_format", "WebP"),
    "html_named_jpg": (b"<html><body>hello</body></html>", "unsupported_format", "not a recognised image"),
    "zip": (b"PK\x03\x04" + b"\x00" * 100, "unsupported_format", "ZIP"),
    "empty": (b"", "empty_file", "empty"),
    "30_mb": (b"\x89PNG\r\n\x1a\n" + b"\x00" * (30 * 1024 * 1024), "file_too_large", "the limit is 10 MB"),
    "14_px_side": (image_bytes("PNG", size=(14, 300)), "bad_dimensions", "between 15 and 8192"),
    "8193_px_side": (image_bytes("PNG", size=(8193, 20), mode="L"), "bad_dimensions", "8193x20"),
    "bomb_100k_square": (png_declaring(100_000, 100_000), "decompression_bomb", "more pixels than we accept"),
    "bomb_within_sides": (png_declaring(8000, 8000), "decompression_bomb", "pixels"),
    "truncated_jpeg": (_truncated_jpeg(), "corrupt_image", "truncated or corrupt"),
    "corrupt_png": (_corrupt_png(), "corrupt_image", "cannot be decoded"),
    "multi_page_tiff": (_frames("TIFF"), "multiple_frames", "several images"),
    "animated_png": (_frames("PNG"), "multiple_frames", "several images"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_refused_with_a_specific_error(case, private_root, name):
    data, code, message = BAD_FILES[name]
    with pytest.raises(DocumentInvalid) as info:
        document_add(case=case, document_type="hk_id_card", side="front", data=data, actor=None)
    assert info.value.code == code
    assert message in info.value.message
    assert not Document.objects.exists()
    assert stored_files(private_root) == []


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_gets_a_clear_page_not_a_server_error(client, reviewer, case, name):
    data, code, _message = BAD_FILES[name]
    client.force_login(reviewer)
    upload = io.BytesIO(data)
    upload.name = f"{name}.jpg"
    response = client.post(
        reverse("admin:kyc_case_upload", args=[case.pk]),
        {"document_type": "hk_id_card", "side": "front", "image": upload},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f"[{code}]" in body or (code == "empty_file" and "The submitted file is empty" in body)


def test_a_good_upload_through_the_page_is_stored_and_audited(client, reviewer, case):
    client.force_login(reviewer)
    upload = io.BytesIO(image_bytes("PNG", size=(640, 400)))
    upload.name = "card.png"
    response = client.post(
        reverse("admin:kyc_case_upload", args=[case.pk]),
        {"document_type": "hk_id_card", "side": "front", "image": upload},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.width, document.height, document.status) == (640, 400, "received")
    assert AuditEvent.objects.filter(action="document.received", object_id=str(document.pk)).count() == 1


@pytest.mark.parametrize(("fmt", "extra"), [("JPEG", {"quality": 90}), ("PNG", {}), ("BMP", {}), ("TIFF", {})])
def test_allowed_formats_are_accepted(case, fmt, extra):
    document = document_add(
        case=case,
        document_type="cn_passport",
        side="front",
        data=image_bytes(fmt, size=(500, 350), **extra),
        actor=None,
    )
    assert document.original_format == fmt
    assert document.content_type in {"image/jpeg", "image/png"}


def _stored(document: Document) -> Image.Image:
    with private_storage().open(document.image, "rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def _jpeg_with_exif(orientation: int) -> bytes:
    image = Image.new("RGB", (300, 100), "white")
    image.paste((255, 0, 0), (0, 0, 30, 30))  # a red mark in the top-left corner as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (22.0, 17.0, 0.0), 3: "E", 4: (114.0, 10.0, 0.0)}  # GPS near Hong Kong
    exif[0x010F] = "SpyCam"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95, icc_profile=b"\x00" * 128)
    return out.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_then_all_metadata_dropped(case, orientation):
    document = document_add(
        case=case, document_type="hk_id_card", side="front", data=_jpeg_with_exif(orientation), actor=None
    )
    stored = _stored(document)
    expected_size = (300, 100) if orientation < 5 else (100, 300)
    assert stored.size == expected_size == (document.width, document.height)
    assert not stored.getexif()
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(stored.info)


def test_png_text_chunks_and_appended_payloads_are_gone(case):
    image = Image.new("RGB", (200, 120), "white")
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "applicant secret")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    polyglot = out.getvalue() + b"<html><script>alert(1)</script></html>"
    document = document_add(case=case, document_type="hk_id_card", side="front", data=polyglot, actor=None)
    with private_storage().open(document.image, "rb") as handle:
        stored = handle.read()
    assert b"<script>" not in stored
    assert b"applicant secret" not in stored
    assert document.original_sha256 != document.stored_sha256


def test_cmyk_and_16_bit_images_become_viewable_pixels():
    cmyk = image_normalise(image_bytes("JPEG", size=(100, 80), mode="CMYK"))
    assert Image.open(io.BytesIO(cmyk.content)).mode == "RGB"
    deep = Image.new("I;16", (64, 64), 30000)
    out = io.BytesIO()
    deep.save(out, "PNG")
    grey = Image.open(io.BytesIO(image_normalise(out.getvalue()).content))
    assert grey.mode == "L"
    assert 100 < grey.getpixel((5, 5)) < 130


def test_a_jpeg_without_the_optimising_pass_holds_the_same_pixels():
    """Portraits skip the encoder's Huffman-table pass: lossless, so the same pixels, only more bytes."""
    import random

    noisy = Image.new("RGB", (120, 150))
    noisy.putdata([tuple(random.Random(i).randrange(256) for _ in range(3)) for i in range(120 * 150)])
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=85)
    optimised, plain = image_normalise(out.getvalue()), image_normalise(out.getvalue(), optimize=False)
    assert plain.content != optimised.content
    assert len(plain.content) > len(optimised.content)
    assert Image.open(io.BytesIO(plain.content)).tobytes() == Image.open(io.BytesIO(optimised.content)).tobytes()
    assert (plain.content_type, plain.width, plain.height) == ("image/jpeg", 120, 150)


def test_the_original_hash_spots_a_resubmission(case):
    data = image_bytes("PNG", size=(300, 200))
    first = document_add(case=case, document_type="hk_id_card", side="front", data=data, actor=None)
    second = document_add(case=case, document_type="hk_id_card", side="front", data=data, actor=None)
    assert first.original_sha256 == second.original_sha256
    assert first.image != second.image  # stored under fresh random names


@pytest.mark.parametrize(
    ("document_type", "side", "code"),
    [
        ("driving_licence", "front", "unknown_type"),
        ("hk_id_card", "back", "unknown_side"),
        ("cn_passport", "back", "unknown_side"),
        ("exit_entry_permit", "inside", "unknown_side"),
    ],
)
def test_wrong_document_type_or_side_is_refused(case, png_bytes, document_type, side, code):
    with pytest.raises(DocumentInvalid) as info:
        document_add(case=case, document_type=document_type, side=side, data=png_bytes, actor=None)
    assert info.value.code == code


def test_documents_cannot_be_added_to_a_closed_case(case, png_bytes):
    case_reject(case=case, actor=None, reason_codes=["other"])
    with pytest.raises(DocumentInvalid, match="rejected") as info:
        document_add(case=case, document_type="hk_id_card", side="front", data=png_bytes, actor=None)
    assert info.value.code == "case_closed"
