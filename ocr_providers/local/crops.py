"""Line re-crops for the re-read ladder (OFFLINE-OCR.md section 7.2, step 3).

When a machine-code line fails its check digits, or a name line disagrees with the visual zone, the
line is cut out again from the page with different padding and contrast and recognised on its own.
Each rung is cheap (recognition only, no detection), and the ladder stops at the first read that
validates, so clean documents never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ocr_providers.local.engine import Image

__all__ = ["RUNGS", "crop_quad", "line_below", "red_free", "rung"]

# (vertical padding, horizontal padding) in line heights, contrast stretch, horizontal squeeze.
RUNGS: tuple[tuple[float, float, bool, float], ...] = (
    (0.3, 0.25, False, 1.0),
    (0.3, 0.25, True, 1.0),
    (0.3, 0.25, False, 0.8),
    (0.8, 0.5, False, 1.0),
    (0.15, 0.1, True, 1.0),
)


def crop_quad(image: Image, quad: Sequence[tuple[float, float]], pad_y: float, pad_x: float) -> Image:
    """Warp the (padded) quadrilateral of one text line to an upright rectangle."""
    pts = np.array(quad, dtype=np.float32)
    top, right_edge = pts[1] - pts[0], pts[3] - pts[0]
    width, height = float(np.linalg.norm(top)), float(np.linalg.norm(right_edge))
    if width < 2 or height < 2:
        return np.zeros((1, 1, 3), dtype=np.uint8)
    ux, uy = top / width, right_edge / height
    dx, dy = ux * pad_x * height, uy * pad_y * height
    src = np.array([pts[0] - dx - dy, pts[1] + dx - dy, pts[2] + dx + dy, pts[3] - dx + dy], dtype=np.float32)
    out_w, out_h = round(width + 2 * pad_x * height), round(height * (1 + 2 * pad_y))
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, dtype=np.uint8)


def _stretch(crop: Image) -> Image:
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    lo, hi = np.percentile(grey, (2, 98))
    scaled = np.clip((grey.astype(np.float32) - lo) * 255.0 / max(hi - lo, 1.0), 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(scaled, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def rung(image: Image, quad: Sequence[tuple[float, float]], index: int) -> Image:
    """The crop for ladder rung ``index``."""
    pad_y, pad_x, stretch, squeeze = RUNGS[index]
    crop = crop_quad(image, quad, pad_y, pad_x)
    if stretch:
        crop = _stretch(crop)
    if squeeze != 1.0:
        h, w = crop.shape[:2]
        crop = np.asarray(cv2.resize(crop, (max(1, int(w * squeeze)), h), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return crop


def line_below(quad: Sequence[tuple[float, float]], lines: float, width: float) -> list[tuple[float, float]]:
    """The quad of a text line ``lines`` line heights under ``quad``, same left edge, ``width`` heights
    long: where a layout prints the next value when the detector missed it."""
    pts = np.array(quad, dtype=np.float64)
    along, down = pts[1] - pts[0], pts[3] - pts[0]
    height = float(np.linalg.norm(down))
    ux = along / max(float(np.linalg.norm(along)), 1.0)
    top_left = pts[0] + down * lines
    top_right = top_left + ux * width * height
    corners = (top_left, top_right, top_right + down, top_left + down)
    return [(float(x), float(y)) for x, y in corners]


def red_free(crop: Image) -> Image:
    """The red channel as grey: a red stamp or watermark (``SPECIMEN``) turns as pale as the paper
    while blue and black print stay dark."""
    red = crop[:, :, 2]
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(red), cv2.COLOR_GRAY2BGR), dtype=np.uint8)
