"""Capture conditions applied to a clean render, each seeded per file.

``degrade(image, condition, rng)`` returns the degraded image, the JPEG quality to save it with and
the parameters drawn (recorded in the ground truth), including the card's four corners in the output
image (top-left, top-right, bottom-right, bottom-left of the clean render) so that a test can map a
layout box into the degraded image.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from kyc.specimens.fonts import font

STANDARD_CONDITIONS = ("clean", "jpeg40", "blur", "rot3", "perspective", "lowcontrast", "down600")
HARD_CONDITIONS = ("phone", "glare", "noise", "jpeg25", "down480", "upside_down")
CONDITIONS = STANDARD_CONDITIONS + HARD_CONDITIONS
GREY = (128, 128, 128)

Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Degraded:
    """A degraded image, the JPEG quality to encode it with, and the recorded parameters."""

    image: Image.Image
    quality: int
    params: dict[str, Any]


def _corners(image: Image.Image) -> Points:
    w, h = image.size
    return [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]


def _homography(src: Points, dst: Points) -> np.ndarray:
    """The 3x3 matrix taking the four ``src`` points onto ``dst``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return np.append(coeffs, 1.0).reshape(3, 3)


def _apply(matrix: np.ndarray, points: Points) -> Points:
    out = []
    for x, y in points:
        u, v, w = matrix @ np.array([x, y, 1.0])
        out.append((float(u / w), float(v / w)))
    return out


def warp(image: Image.Image, dst: Points, size: tuple[int, int], fill: Image.Image | None = None) -> Image.Image:
    """Map the image's corners onto ``dst`` in a ``size`` canvas, over ``fill`` (grey if None)."""
    inverse = np.linalg.inv(_homography(_corners(image), dst))
    inverse /= inverse[2, 2]
    data = tuple(inverse.flatten()[:8])
    warped = image.transform(size, Image.Transform.PERSPECTIVE, data, Image.Resampling.BICUBIC)
    mask = Image.new("L", image.size, 255).transform(size, Image.Transform.PERSPECTIVE, data, Image.Resampling.BILINEAR)
    base = fill.copy() if fill is not None else Image.new("RGB", size, GREY)
    base.paste(warped, (0, 0), mask)
    return base


def _rotated(points: Points, size: tuple[int, int], new_size: tuple[int, int], degrees: float) -> Points:
    """Where points land after ``Image.rotate(degrees, expand=True)`` (counter-clockwise, y down)."""
    a = math.radians(degrees)
    (cx, cy), (nx, ny) = (size[0] / 2, size[1] / 2), (new_size[0] / 2, new_size[1] / 2)
    return [
        (
            nx + (x - cx) * math.cos(a) + (y - cy) * math.sin(a),
            ny - (x - cx) * math.sin(a) + (y - cy) * math.cos(a),
        )
        for x, y in points
    ]


def _noise(image: Image.Image, sigma: float, rng: random.Random) -> Image.Image:
    arr = np.asarray(image, np.float32)
    gen = np.random.default_rng(rng.getrandbits(32))
    arr = arr + gen.normal(0, sigma, arr.shape[:2])[..., None] + gen.normal(0, sigma / 3, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _resize(image: Image.Image, width: int) -> Image.Image:
    return image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)


def _scale(points: Points, factor: float) -> Points:
    return [(x * factor, y * factor) for x, y in points]


def _fit(points: Points, size: tuple[int, int], margin: float) -> Points:
    """Shrink ``points`` towards their centre until they lie ``margin`` pixels inside ``size``."""
    cx, cy = sum(x for x, _ in points) / 4, sum(y for _, y in points) / 4
    factor = 1.0
    for x, y in points:
        for value, centre, limit in ((x, cx, size[0]), (y, cy, size[1])):
            if value != centre:
                bound = (limit - margin) if value > centre else margin
                factor = min(factor, (bound - centre) / (value - centre))
    return [(cx + (x - cx) * factor, cy + (y - cy) * factor) for x, y in points]


# --- conditions ---------------------------------------------------------------------------------------


def _jpeg_only(quality: int):
    def apply(image: Image.Image, rng: random.Random) -> tuple[Image.Image, Points, int, dict[str, Any]]:
        return image, _corners(image), quality, {}

    return apply


def _blur(image, rng):
    sigma = round(rng.uniform(1.6, 2.2), 2)
    return image.filter(ImageFilter.GaussianBlur(sigma)), _corners(image), 90, {"sigma": sigma}


def _rotate(degrees: float | None):
    """Rotate by ``degrees``, or by +-3 degrees drawn per file when None."""

    def apply(image, rng):
        angle = degrees if degrees is not None else rng.choice((-3.0, 3.0))
        out = image.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=GREY)
        return (
            out,
            _rotated(_corners(image), image.size, out.size, angle),
            90,
            {"angle": angle},
        )

    return apply


def _perspective(image, rng):
    w, h = image.size
    pad_x, pad_y = round(w * 0.08), round(h * 0.08)
    dst = [
        (x + pad_x + rng.uniform(-0.07, 0.07) * w, y + pad_y + rng.uniform(-0.08, 0.08) * h) for x, y in _corners(image)
    ]
    size = (w + 2 * pad_x, h + 2 * pad_y)
    dst = _fit(dst, size, margin=4)  # keep the whole card in the picture: its corners are ground truth
    out = warp(image, dst, size)
    return out, dst, 90, {"jitter": [[round(x, 1), round(y, 1)] for x, y in dst]}


def _lowcontrast(image, rng):
    arr = (np.asarray(image, np.float32) - 150) * 0.25 + 150
    ramp = np.linspace(-18, 22, image.width, dtype=np.float32)[None, :, None]
    out = _noise(Image.fromarray(np.clip(arr + ramp, 0, 255).astype(np.uint8), "RGB"), 5, rng)
    return out, _corners(image), 90, {"contrast": 0.25, "ramp": [-18, 22], "noise_sigma": 5}


def _downscale(width: int):
    def apply(image, rng):
        factor = width / image.width
        return _resize(image, width), _scale(_corners(image), factor), 90, {"width": width}

    return apply


def _glare(image, rng):
    """Uneven lighting (one side darker) plus a bright, nearly saturated glare spot."""
    w, h = image.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dark = rng.uniform(0.55, 0.7)
    direction = rng.uniform(0, 2 * math.pi)
    t = ((xx / w - 0.5) * math.cos(direction) + (yy / h - 0.5) * math.sin(direction)) + 0.5
    light = dark + (1 - dark) * np.clip(t, 0, 1)
    cx, cy, radius = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h, rng.uniform(0.08, 0.14) * w
    spot = 0.95 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))
    arr = np.asarray(image, np.float32) * light[..., None]
    arr = arr + (255 - arr) * spot[..., None]
    params = {
        "dark": round(dark, 3),
        "spot": [round(cx), round(cy), round(radius)],
        "direction": round(direction, 3),
    }
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB"), _corners(image), 90, params


def _sensor_noise(image, rng):
    sigma = round(rng.uniform(10, 16), 2)
    return _noise(image, sigma, rng), _corners(image), 90, {"sigma": sigma}


def _upside_down(image, rng):
    w, h = image.size
    corners = [(w - x, h - y) for x, y in _corners(image)]
    return image.rotate(180), corners, 95, {"angle": 180}


def _clutter(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A table top: a wood-ish gradient with papers, pens, a mug and stray printed words."""
    w, h = size
    base = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    tone = np.array([rng.randint(90, 150), rng.randint(70, 110), rng.randint(40, 80)], np.float32)
    grain = np.sin(np.arange(h, dtype=np.float32)[:, None, None] / rng.uniform(3, 7)) * 8
    image = Image.fromarray(np.clip(tone * (0.8 + 0.3 * base) + grain, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(4, 7)):
        x, y = rng.uniform(-0.1, 0.9) * w, rng.uniform(-0.1, 0.9) * h
        colour = tuple(rng.randint(60, 250) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + rng.uniform(0.15, 0.4) * w, y + rng.uniform(0.1, 0.35) * h), fill=colour)
        else:
            draw.ellipse((x, y, x + rng.uniform(0.08, 0.2) * w, y + rng.uniform(0.08, 0.2) * w), fill=colour)
    for _ in range(rng.randint(2, 4)):  # pens
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.line((x, y, x + rng.uniform(-300, 300), y + rng.uniform(-120, 120)), fill=(20, 30, 120), width=14)
    for word in rng.sample(("RECEIPT", "TOTAL 12.50", "Meeting 3pm", "NOTES", "收据", "Tel 2345 6789"), 3):
        draw.text((rng.uniform(0, 0.8) * w, rng.uniform(0, 0.9) * h), word, font=font("sc", 28), fill=(40, 40, 40))
    return image.filter(ImageFilter.GaussianBlur(2.5))  # the table is out of focus; the card is not


def _phone(image, rng):
    """The card photographed on a cluttered table: 10-15 degree tilt, perspective, about half the frame."""
    frame = (1600, 1200)
    angle = rng.uniform(10, 15) * rng.choice((-1, 1))
    width = rng.uniform(0.68, 0.74) * frame[0]
    cx, cy = frame[0] / 2 + rng.uniform(-60, 60), frame[1] / 2 + rng.uniform(-50, 50)
    half_w, half_h = width / 2, width * image.height / image.width / 2
    a = math.radians(angle)
    quad = []
    for dx, dy in ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)):
        jitter_x, jitter_y = rng.uniform(-0.03, 0.03) * frame[0], rng.uniform(-0.03, 0.03) * frame[1]
        quad.append(
            (
                cx + dx * math.cos(a) - dy * math.sin(a) + jitter_x,
                cy + dx * math.sin(a) + dy * math.cos(a) + jitter_y,
            )
        )
    quad = _fit(quad, frame, margin=24)
    table = _clutter(frame, rng)
    shadow = Image.new("L", frame, 0)
    ImageDraw.Draw(shadow).polygon([(x + 14, y + 18) for x, y in quad], fill=110)
    table = Image.composite(Image.new("RGB", frame, (10, 10, 10)), table, shadow.filter(ImageFilter.GaussianBlur(12)))
    out = warp(image, quad, frame, fill=table).filter(ImageFilter.GaussianBlur(0.7))
    out = _noise(out, 4, rng)
    area = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(quad, quad[1:] + quad[:1], strict=True))) / 2
    params = {
        "angle": round(angle, 2),
        "frame": list(frame),
        "card_area_fraction": round(area / (frame[0] * frame[1]), 3),
    }
    return out, quad, 85, params


_OPS = {
    "clean": _jpeg_only(95),
    "jpeg40": _jpeg_only(40),
    "jpeg25": _jpeg_only(25),
    "blur": _blur,
    "rot3": _rotate(None),
    "perspective": _perspective,
    "lowcontrast": _lowcontrast,
    "down600": _downscale(600),
    "down480": _downscale(480),
    "phone": _phone,
    "glare": _glare,
    "noise": _sensor_noise,
    "upside_down": _upside_down,
}


def degrade(image: Image.Image, condition: str, rng: random.Random) -> Degraded:
    """Apply ``condition`` (one of CONDITIONS) to a clean render."""
    if condition not in _OPS:
        raise ValueError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")
    out, corners, quality, params = _OPS[condition](image, rng)
    params = {
        "condition": condition,
        "quality": quality,
        **params,
        "size": list(out.size),
        "corners": [[round(x, 1), round(y, 1)] for x, y in corners],
    }
    return Degraded(out.convert("RGB"), quality, params)
