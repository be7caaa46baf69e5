"""Draw one side of a specimen from its layout and printed values.

``render(layout, printed, rng)`` returns the clean RGB image and the layout record for the ground
truth: every printed field's bounding box, the photo box and the card's corners, in pixels.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from kyc.specimens.fonts import font, machine_code_size
from kyc.specimens.layouts import Field, Layout

WATERMARK = "SPECIMEN 样本"


def _gradient(layout: Layout) -> np.ndarray:
    w, h = layout.size
    (r0, g0, b0), (r1, g1, b1) = layout.palette
    t = (np.arange(w)[None, :] / w * 0.6 + np.arange(h)[:, None] / h * 0.4)[..., None]
    return np.array([r0, g0, b0], float) * (1 - t) + np.array([r1, g1, b1], float) * t


def _guilloche(image: Image.Image, layout: Layout, rng: random.Random) -> None:
    """Generic interlaced sine waves: gives the text detector a busy, non-white field, as real cards do."""
    draw = ImageDraw.Draw(image)
    w, h = layout.size
    for family in range(2):
        period = rng.uniform(180, 320)
        amp = rng.uniform(14, 30)
        for k in range(0, h + 40, 16):
            phase = k / 37 + family * math.pi / 2
            pts = [(x, k + amp * math.sin(2 * math.pi * x / period + phase)) for x in range(0, w + 8, 8)]
            draw.line(pts, fill=layout.guilloche, width=1)


def background(layout: Layout, rng: random.Random) -> Image.Image:
    """Gradient, guilloche lines and +-6 levels of noise."""
    base = Image.fromarray(_gradient(layout).astype(np.uint8), "RGB")
    _guilloche(base, layout, rng)
    noise = np.random.default_rng(rng.getrandbits(32)).integers(-6, 7, (*base.size[::-1], 1))
    arr = np.clip(np.asarray(base, np.int16) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def _photo(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """A grey head-and-shoulders silhouette, never a face."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=(214, 216, 220), outline=(150, 150, 160), width=2)
    cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
    head = (cx - w * 0.2, y0 + h * 0.16, cx + w * 0.2, y0 + h * 0.52)
    draw.ellipse(head, fill=(150, 153, 160))
    draw.chord((x0 + w * 0.1, y0 + h * 0.55, x1 - w * 0.1, y1 + h * 0.35), 180, 360, fill=(150, 153, 160))


def _draw_field(draw: ImageDraw.ImageDraw, spec: Field, value: str) -> list[int]:
    x, y = spec.xy
    if spec.label:
        draw.text(
            (x, y - spec.label_size - 7),
            spec.label,
            font=font(spec.label_font, spec.label_size),
            fill=(70, 78, 96),
        )
    if spec.width:  # machine code: fixed pitch, one OCR-B line per row
        face = font("ocrb", machine_code_size(spec.chars, spec.width))
        boxes = []
        for i, line in enumerate(value.split("\n")):
            draw.text((x, y + i * spec.pitch), line, font=face, fill=(16, 16, 20))
            boxes.append(draw.textbbox((x, y + i * spec.pitch), line, font=face))
        return [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ]
    face = font(spec.font, spec.size)
    draw.multiline_text((x, y), value, font=face, fill=spec.color, spacing=spec.spacing)
    return list(draw.multiline_textbbox((x, y), value, font=face, spacing=spec.spacing))


def _watermark(image: Image.Image, rng: random.Random) -> Image.Image:
    """The diagonal ``SPECIMEN 样本`` mark, semi-transparent, across the middle of every image."""
    w, h = image.size
    face = font("sc_bold", int(w / 9))
    left, top, right, bottom = face.getbbox(WATERMARK)
    layer = Image.new("L", (right - left + 20, bottom - top + 20), 0)
    ImageDraw.Draw(layer).text((10 - left, 10 - top), WATERMARK, font=face, fill=255)
    angle = math.degrees(math.atan2(h, w)) + rng.uniform(-4, 4)
    layer = layer.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    mask = Image.new("L", image.size, 0)
    mask.paste(layer, ((w - layer.width) // 2, (h - layer.height) // 2))
    mask = mask.point(lambda v: v * 62 // 255)  # about a quarter opacity: visible, text still legible
    return Image.composite(Image.new("RGB", image.size, (200, 40, 48)), image, mask)


def render(layout: Layout, printed: dict[str, str], rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    """Render one side; return the image and its layout record (boxes in clean-image pixels)."""
    image = background(layout, rng)
    draw = ImageDraw.Draw(image)
    w, h = layout.size
    # A thin rounded border inside the edge, as printed cards and pages have.
    edge = tuple(max(0, c - 40) for c in layout.guilloche)
    draw.rounded_rectangle((8, 8, w - 9, h - 9), radius=22, outline=edge, width=2)
    if layout.band:
        draw.rectangle(layout.band, fill=(246, 246, 244))
    for prefix, box in layout.frames:
        if any(k.startswith(prefix) for k in printed):
            draw.rounded_rectangle(box, radius=14, outline=(120, 150, 160), width=3)
    if layout.photo:
        _photo(draw, layout.photo)
    for text in layout.texts:
        draw.text(text.xy, text.text, font=font(text.font, text.size), fill=text.color)
    boxes = {spec.key: _draw_field(draw, spec, printed[spec.key]) for spec in layout.fields if spec.key in printed}
    image = _watermark(image, rng)
    record = {
        "size": [w, h],
        "fields": boxes,
        "photo": list(layout.photo) if layout.photo else None,
        "corners": [[0, 0], [w, 0], [w, h], [0, h]],
    }
    return image, record
