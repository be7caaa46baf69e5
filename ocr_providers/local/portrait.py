"""Locate the holder's photo: register the page against the document's layout, project the photo box.

Every text the extractor found is an anchor whose position on the document's layout is known (the
name's top-left corner, the number's, the machine code's lines). A homography fitted to those
anchors maps the layout's photo rectangle into the image, through rotation and perspective; the
crop is that quadrilateral warped upright. The layout coordinates are those of the generated
specimens (``kyc.specimens.layouts``), which follow the real documents' arrangement; a real
document template needs its own coordinates here.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr_providers.documents import DocumentType
from ocr_providers.local.engine import Image
from ocr_providers.local.extraction import Extraction

__all__ = ["LAYOUTS", "locate", "project"]

Rect = tuple[int, int, int, int]
Corners = tuple[tuple[float, float], ...]

# Per type: photo rectangle and anchor key -> top-left of the printed text, in layout pixels.
LAYOUTS: dict[DocumentType, tuple[Rect, dict[str, tuple[int, int]]]] = {
    DocumentType.HK_ID_CARD: ((650, 118, 940, 490), {
        "title": (40, 22), "name_zh": (40, 118), "name_en": (40, 186), "telecode": (40, 234),
        "birth_date": (40, 314), "sex": (330, 312), "symbols": (40, 364), "first_issue_date": (40, 442),
        "issue_date": (190, 442), "document_number": (600, 530), "card_version": (40, 590),
    }),
    DocumentType.CN_PASSPORT: ((60, 140, 380, 560), {
        "type": (430, 140), "country_code": (660, 140), "document_number": (900, 140),
        "sex": (430, 412), "nationality": (660, 412), "birth_date": (430, 478), "birth_place": (900, 478),
        "issue_date": (430, 544), "issue_place": (900, 544), "expiry_date": (430, 620),
        "mrz0": (64, 730), "mrz1": (64, 792),
    }),
    DocumentType.EXIT_ENTRY_PERMIT: ((36, 120, 270, 440), {
        "permit_type": (36, 18), "document_number": (690, 120), "name_zh": (310, 140),
        "name_en": (310, 190), "birth_date": (310, 262), "sex": (620, 262), "validity": (310, 334),
        "issuing_authority": (310, 406), "issue_place": (690, 406), "mrz0": (55, 525),
    }),
    DocumentType.MAINLAND_TRAVEL_PERMIT: ((36, 110, 246, 390), {
        "permit_type": (36, 18), "document_number": (660, 118), "issue_times": (890, 118),
        "name_zh": (280, 128), "name_en": (280, 172), "sex": (280, 236), "birth_date": (450, 236),
        "validity": (280, 298), "issuing_authority": (280, 360), "issue_place": (690, 360),
        "mrz0": (55, 432), "mrz1": (55, 488), "mrz2": (55, 544),
    }),
}  # fmt: skip


def _pairs(ex: Extraction, anchors: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    src, dst = [], []
    boxes = dict(ex.anchors)
    if ex.machine is not None:
        boxes |= {f"mrz{i}": line.boxes[0] for i, line in enumerate(ex.machine.lines)}
    for key, box in boxes.items():
        if key in anchors:
            src.append(anchors[key])
            dst.append(box.box.quad[0])
    return np.array(src, dtype=np.float32), np.array(dst, dtype=np.float32)


def _transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    if len(src) >= 5:
        matrix, _ = cv2.findHomography(src, dst, cv2.RANSAC, 12.0)
        if matrix is not None:
            return np.asarray(matrix)
    if len(src) >= 3:
        affine, _ = cv2.estimateAffine2D(src, dst)
        if affine is not None:
            return np.vstack([affine, [0.0, 0.0, 1.0]])
    return None


def project(document_type: DocumentType, ex: Extraction, rect: Rect) -> Corners | None:
    """A layout rectangle's corners (TL, TR, BR, BL) in the image, registered on ``ex``'s anchors."""
    if document_type not in LAYOUTS:
        return None
    src, dst = _pairs(ex, LAYOUTS[document_type][1])
    matrix = _transform(src, dst)
    if matrix is None:
        return None
    x0, y0, x1, y1 = rect
    corners = np.array([[[x0, y0]], [[x1, y0]], [[x1, y1]], [[x0, y1]]], dtype=np.float32)
    quad = cv2.perspectiveTransform(corners, matrix).reshape(4, 2)
    return tuple((float(x), float(y)) for x, y in quad)


def locate(image: Image, document_type: DocumentType, ex: Extraction) -> tuple[Image, Corners] | None:
    """The upright photo crop and its corners (TL, TR, BR, BL) in ``image`` pixels, or ``None``."""
    if document_type not in LAYOUTS:
        return None
    (x0, y0, x1, y1), anchors = LAYOUTS[document_type]
    src, dst = _pairs(ex, anchors)
    matrix = _transform(src, dst)
    if matrix is None:
        return None
    rect = np.array([[[x0, y0]], [[x1, y0]], [[x1, y1]], [[x0, y1]]], dtype=np.float32)
    quad = cv2.perspectiveTransform(rect, matrix).reshape(4, 2)
    h, w = image.shape[:2]
    if not all(-0.05 * w <= x <= 1.05 * w and -0.05 * h <= y <= 1.05 * h for x, y in quad):
        return None  # the photo would lie outside the picture: the registration is not trustworthy
    out_w, out_h = x1 - x0, y1 - y0
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    crop = np.asarray(cv2.warpPerspective(image, warp, (out_w, out_h), flags=cv2.INTER_LINEAR), dtype=np.uint8)
    return crop, tuple((float(x), float(y)) for x, y in quad)
