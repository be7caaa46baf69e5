"""Declarative layouts: canvas, palette, static labels, field positions, photo box, machine code.

Layouts are generic arrangements modelled on where the real documents put things; they copy no
emblem, no official security pattern and no official artwork. ``layout_for(document_type, side,
truth)`` returns the layout for one side (a few depend on the values, e.g. the HKID title).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocr_providers.documents import DocumentType, Side

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]
INK: RGB = (28, 28, 36)
LABEL_INK: RGB = (70, 78, 96)
RED: RGB = (176, 30, 36)
CARD = (1000, 630)  # ID-1, 85.6 x 54 mm at about 11.7 px/mm


@dataclass(frozen=True)
class Text:
    """A static text (title, label, note)."""

    text: str
    xy: tuple[int, int]
    font: str = "sc"
    size: int = 16
    color: RGB = LABEL_INK


@dataclass(frozen=True)
class Field:
    """Where the printed value ``key`` goes; ``label`` (bilingual) is drawn just above it.

    ``width`` marks a machine-code field: the OCR-B size is chosen so that ``chars`` characters span
    ``width`` pixels, and lines are ``pitch`` pixels apart.
    """

    key: str
    xy: tuple[int, int]
    font: str = "sc"
    size: int = 26
    color: RGB = INK
    label: str = ""
    label_font: str = "sc"
    label_size: int = 15
    spacing: int = 6
    width: int = 0
    chars: int = 0
    pitch: int = 0


@dataclass(frozen=True)
class Layout:
    """One side of one document type."""

    size: tuple[int, int]
    palette: tuple[RGB, RGB]  # gradient from top-left to bottom-right
    guilloche: RGB
    texts: tuple[Text, ...] = ()
    fields: tuple[Field, ...] = ()
    photo: Box | None = None
    # Framed areas drawn only when a printed key starts with the given prefix (endorsement slots).
    frames: tuple[tuple[str, Box], ...] = ()
    band: Box | None = None  # a pale band behind the machine-readable zone
    extra: dict[str, Any] = field(default_factory=dict)


def field_row(y: int, *items: tuple[str, int, str], font: str = "sc", size: int = 26) -> tuple[Field, ...]:
    """A row of labelled fields sharing a baseline: ``(key, x, label)`` per item."""
    return tuple(Field(key, (x, y), font=font, size=size, label=label) for key, x, label in items)


def layout_for(document_type: DocumentType | str, side: Side | str, truth: dict[str, Any]) -> Layout:
    """The layout of one side, possibly varied by the values (title, palette)."""
    from kyc.specimens.layouts import hkid, passport, permits

    table: dict[tuple[DocumentType, Side], Callable[[dict[str, Any]], Layout]] = {
        (DocumentType.HK_ID_CARD, Side.FRONT): hkid.front,
        (DocumentType.CN_PASSPORT, Side.FRONT): passport.front,
        (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT): permits.eep_front,
        (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK): permits.eep_back,
        (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.FRONT): permits.mtp_front,
        (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK): permits.mtp_back,
    }
    return table[(DocumentType(document_type), Side(side))](truth)
