"""What an extractor returns, and the small helpers every extractor uses to fill it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocr_providers.local.confidence import Fused, Reading, fuse
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.mrz_read import MrzRead

__all__ = ["Extraction", "mrz_reading"]


@dataclass
class Extraction:
    """Fused fields of one side, the machine code read, and anchors for locating the portrait.

    ``anchors`` maps a layout key (a field or label name) to the box it was found in, so the
    portrait locator can register the page against the document's layout.
    """

    fields: dict[str, Fused] = field(default_factory=dict)
    machine: MrzRead | None = None
    anchors: dict[str, PlacedBox] = field(default_factory=dict)

    def put(self, name: str, viz: Reading | None, mrz: Reading | None = None, *, prefer_viz: bool = False) -> None:
        fused = fuse(viz, mrz, prefer_viz=prefer_viz)
        if fused is not None:
            self.fields[name] = fused

    def anchor(self, key: str, box: PlacedBox | None) -> None:
        if box is not None:
            self.anchors.setdefault(key, box)


def mrz_reading(
    read: MrzRead | None, name: str, value: object = None, *, checked_by: str | None = None
) -> Reading | None:
    """A machine-code field as a ``Reading``; ``checked_by`` names the check digit covering it."""
    if read is None or read.ambiguous:
        return None
    raw = read.code.fields.get(name)
    if value is None:
        value = raw
    if value in (None, ""):
        return None
    # ``checked_by=""`` marks a field no check digit covers (names, sex).
    key = name if checked_by is None else checked_by
    own_check = bool(key) and read.code.checks.get(key, False)
    return Reading(
        value=value,
        raw=str(raw),
        score=read.score,
        checked=own_check,
        repairs=read.toggles,
        block_valid=read.code.valid,
    )
