"""Label-free lookup: find a value by its own strict format and its place among its look-alikes.

Labels are the smallest print on every document and blur or a 480-px capture destroys them first,
while the values themselves stay legible (OFFLINE-OCR.md section 7.2, step 4). When a field's label
is not found, its value is looked for among the visual-zone boxes instead:

* ``sole``: the only box on the page whose text parses as this field (``男/M``, ``中国/CHINESE``,
  two dotted dates in one box); two candidates mean no answer, never a guess;
* ``ranked``: the k-th of exactly n parsing boxes, top to bottom (the passport prints birth, issue
  and expiry dates in one column, birth place above issue place).

Values found this way are marked ``label_free`` and start at 0.8 times the visual-only confidence
(below 0.9): only agreement with the machine code or a check lifts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ocr_providers.local.confidence import Reading
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.page import Page
from ocr_providers.local.viz import reading, squeeze

__all__ = ["Hit", "Parse", "above", "free_reading", "ranked", "sex_strict", "sole"]

Parse = Callable[[str], object]
Hit = tuple[PlacedBox, object]


def _hits(page: Page, parse: Parse, exclude: Sequence[PlacedBox | None]) -> list[Hit]:
    skip = {id(b) for b in exclude if b is not None}
    hits = [(b, v) for b in page.viz_boxes() if id(b) not in skip and (v := parse(b.text))]
    return sorted(hits, key=lambda h: h[0].y)


def sole(page: Page, parse: Parse, *, exclude: Sequence[PlacedBox | None] = ()) -> Hit | None:
    """The single visual-zone box whose text parses (``exclude``: boxes other fields already own)."""
    hits = _hits(page, parse, exclude)
    return hits[0] if len(hits) == 1 else None


def ranked(page: Page, parse: Parse, rank: int, of: int, *, exclude: Sequence[PlacedBox | None] = ()) -> Hit | None:
    """The ``rank``-th (0-based, top to bottom) of exactly ``of`` parsing boxes."""
    hits = _hits(page, parse, exclude)
    return hits[rank] if len(hits) == of else None


def above(page: Page, box: PlacedBox, parse: Parse) -> Hit | None:
    """The parsing box directly above ``box`` (left edges aligned, within about two lines)."""
    unit = page.frame.unit
    for b in sorted(page.viz_boxes(), key=lambda p: -p.y):
        if b is box or not 0.4 * unit < box.y - b.y <= 2.4 * unit:
            continue
        if abs(b.left - box.left) <= 1.2 * unit and (value := parse(b.text)):
            return b, value
    return None


def free_reading(hit: Hit, *, checked: bool = False) -> Reading:
    box, value = hit
    return reading(box, value, checked=checked, label_free=True)


def sex_strict(text: str) -> str | None:
    """``男/M``, ``女F``: both halves present and agreeing (a bare ``M`` is too common to trust)."""
    match = re.fullmatch(r"([男女])/?([MF])", squeeze(text).upper())
    if not match or (match[1] == "男") != (match[2] == "M"):
        return None
    return match[2]
