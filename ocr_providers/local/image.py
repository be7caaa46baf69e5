"""Decoding uploads into the BGR arrays the engine reads.

RapidOCR's own loader ignores EXIF orientation (OFFLINE-OCR.md pitfall 9), so decoding happens here
with Pillow and ``exif_transpose``. Pages are capped at 2,000 px on the long side, which is what the
engine would do anyway, so that crops and coordinates share one scale.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from ocr_providers.exceptions import OcrRejected
from ocr_providers.local.engine import Image

__all__ = ["MAX_SIDE", "decode", "encode_jpeg", "rotate_180"]

MAX_SIDE = 2000
MIN_SIDE = 120  # smaller than this cannot hold a legible document at all


def decode(data: bytes) -> tuple[Image, float]:
    """Decode image bytes to BGR; returns the array and the scale applied (1.0 when not shrunk)."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise OcrRejected("the upload is not a readable image", code="unreadable_image") from exc
    if min(rgb.size) < MIN_SIDE:
        raise OcrRejected("the image is too small to hold a readable document", code="image_too_small")
    scale = min(1.0, MAX_SIDE / max(rgb.size))
    if scale < 1.0:
        rgb = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), PILImage.Resampling.LANCZOS)
    bgr = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
    return np.ascontiguousarray(bgr, dtype=np.uint8), scale


def rotate_180(image: Image) -> Image:
    return np.ascontiguousarray(image[::-1, ::-1])


def encode_jpeg(image: Image, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return b""
    return bytes(buf.tobytes())
