"""One page read: OCR boxes in the document frame, the machine codes on it, and re-read hooks.

Extractors receive a ``Page`` and never talk to the engine directly; the page knows how to re-read a
line from fresh crops (the ladder) so that a failing check digit or a disagreeing name can be retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ocr_providers.local.crops import rung
from ocr_providers.local.engine import Image, OcrEngine
from ocr_providers.local.geometry import Frame, PlacedBox, group_lines
from ocr_providers.local.mrz_read import FORMATS, MrzLine, MrzRead, find_lines, read_format

__all__ = ["Page"]


@dataclass
class Page:
    """The page image, its engine and its boxes placed in the document frame."""

    image: Image
    engine: OcrEngine
    frame: Frame
    rereads: int = 0
    _mrz: dict[str, MrzRead | None] = field(default_factory=dict)

    def reread(self, quad: Sequence[tuple[float, float]], index: int) -> str:
        """Recognise one line again from ladder rung ``index``."""
        self.rereads += 1
        text, _score = self.engine.line(rung(self.image, quad, index))
        return text

    @cached_property
    def mrz_lines(self) -> list[MrzLine]:
        return find_lines(self.frame)

    def machine_code(self, kind: str) -> MrzRead | None:
        """The page's machine code of ``kind`` (``td3``, ``eep``, ``mtp``), repaired and parsed."""
        if kind not in self._mrz:
            self._mrz[kind] = read_format(self.mrz_lines, FORMATS[kind], self.reread)
        return self._mrz[kind]

    @cached_property
    def lines(self) -> list[list[PlacedBox]]:
        return group_lines(self.frame.boxes)

    @cached_property
    def mrz_boxes(self) -> frozenset[int]:
        return frozenset(id(b) for line in self.mrz_lines for b in line.boxes)

    def viz_boxes(self) -> list[PlacedBox]:
        """Boxes outside the machine-readable zone."""
        return [b for b in self.frame.boxes if id(b) not in self.mrz_boxes]
