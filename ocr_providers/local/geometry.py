"""Page geometry: put recognised boxes into the document's own frame and group them into lines.

A phone photo holds the card at 10-15 degrees with perspective; a scan may be tilted 3 degrees. Grouping
boxes by raw image ``y`` then merges neighbouring lines (OFFLINE-OCR.md pitfall 10: two TD3 lines
overlap in ``y`` at 3 degrees). So every box is first rotated by the page's dominant text direction
(the width-weighted median of the box baselines) and all layout questions ("right of the label",
"below the title") are asked in that frame, in units of the text height.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ocr_providers.local.engine import Box

__all__ = ["Frame", "PlacedBox", "group_lines", "page_frame"]


@dataclass(frozen=True)
class PlacedBox:
    """A box with its centre and extent in the deskewed document frame."""

    box: Box
    x: float  # centre
    y: float
    w: float
    h: float

    @property
    def text(self) -> str:
        return self.box.text

    @property
    def score(self) -> float:
        return self.box.score

    @property
    def left(self) -> float:
        return self.x - self.w / 2

    @property
    def right(self) -> float:
        return self.x + self.w / 2

    @property
    def top(self) -> float:
        return self.y - self.h / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Frame:
    """The deskewed page: every box placed, plus the rotation that produced it."""

    boxes: tuple[PlacedBox, ...]
    angle: float  # degrees the page text runs at in the image
    unit: float  # median text height, the ruler for every distance

    def find(self, predicate: Callable[[PlacedBox], bool]) -> list[PlacedBox]:
        return [b for b in self.boxes if predicate(b)]

    def right_of(self, anchor: PlacedBox, max_gap: float = 12.0, tolerance: float = 0.6) -> list[PlacedBox]:
        """Boxes on the anchor's line to its right, nearest first (distances in text heights)."""
        limit = anchor.h * tolerance
        found = [
            b
            for b in self.boxes
            if b is not anchor
            and abs(b.y - anchor.y) <= max(limit, b.h * tolerance)
            and b.left >= anchor.right - anchor.h * 0.5
            and b.left - anchor.right <= max_gap * self.unit
        ]
        return sorted(found, key=lambda b: b.left)

    def below(self, anchor: PlacedBox, max_lines: float = 2.5, slack: float = 1.0) -> list[PlacedBox]:
        """Boxes under the anchor whose left edge is near the anchor's left edge, nearest first."""
        found = [
            b
            for b in self.boxes
            if b is not anchor
            and 0.3 * self.unit < b.y - anchor.y <= max_lines * self.unit + anchor.h
            and abs(b.left - anchor.left) <= slack * self.unit * 2 + 4
        ]
        return sorted(found, key=lambda b: b.y)

    def bounds(self) -> tuple[float, float, float, float]:
        """left, top, right, bottom of all text in the frame."""
        return (
            min(b.left for b in self.boxes),
            min(b.top for b in self.boxes),
            max(b.right for b in self.boxes),
            max(b.bottom for b in self.boxes),
        )


def _rotate(point: tuple[float, float], angle: float) -> tuple[float, float]:
    rad = math.radians(-angle)
    x, y = point
    return x * math.cos(rad) - y * math.sin(rad), x * math.sin(rad) + y * math.cos(rad)


def dominant_angle(boxes: Sequence[Box]) -> float:
    """Width-weighted median of the baselines of boxes wider than they are tall."""
    samples: list[float] = []
    for b in boxes:
        if b.width > 2 * b.height:
            samples += [b.angle] * max(1, int(b.width // max(b.height, 1.0)))
    return statistics.median(samples) if samples else 0.0


def page_frame(boxes: Iterable[Box]) -> Frame:
    """Place boxes in the deskewed frame of the page."""
    boxes = list(boxes)
    angle = dominant_angle(boxes)
    placed = []
    for b in boxes:
        x, y = _rotate(b.center, angle)
        placed.append(PlacedBox(box=b, x=x, y=y, w=b.width, h=b.height))
    unit = statistics.median([p.h for p in placed]) if placed else 1.0
    return Frame(boxes=tuple(placed), angle=angle, unit=unit)


def group_lines(boxes: Iterable[PlacedBox], tolerance: float = 0.5) -> list[list[PlacedBox]]:
    """Boxes that share a text line (centre within ``tolerance`` heights), each sorted left to right."""
    lines: list[list[PlacedBox]] = []
    for b in sorted(boxes, key=lambda p: p.y):
        for line in lines:
            ref = line[-1]
            if abs(b.y - statistics.mean(p.y for p in line)) <= tolerance * min(b.h, ref.h):
                line.append(b)
                break
        else:
            lines.append([b])
    return [sorted(line, key=lambda p: p.x) for line in lines]
