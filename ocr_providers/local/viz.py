"""Visual-zone helpers shared by the per-document extractors: labels, value lookup, normalisers.

Labels are matched on either language (``出生日期`` or ``Date of birth``) because blur destroys the
small English labels first and the Chinese ones survive, or the other way round on low contrast.
Values are found relative to their label in the document frame ("below" on the passport, "right
of" or "below" on the cards), then checked against the field's strict format.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date

from ocr_providers.local.confidence import Reading
from ocr_providers.local.geometry import Frame, PlacedBox

__all__ = [
    "MONTHS",
    "clean",
    "dotted_date",
    "find_label",
    "first_match",
    "is_cjk",
    "iso",
    "reading",
    "sex_of",
]

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")


def clean(text: str) -> str:
    """NFKC (full-width to ASCII), trimmed, inner whitespace collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", clean(text))


def is_cjk(text: str) -> bool:
    return bool(_CJK.match(squeeze(text)))


def find_label(frame: Frame, *patterns: str) -> PlacedBox | None:
    """The box best matching any label pattern (regexes over the space-free, upper-cased text)."""
    compiled = [re.compile(p) for p in patterns]
    hits = [b for b in frame.boxes if any(p.search(squeeze(b.text).upper()) for p in compiled)]
    return min(hits, key=lambda b: len(b.text)) if hits else None


def first_match(
    boxes: Iterable[PlacedBox], pattern: str, flags: int = 0, transform: Callable[[str], str] = squeeze
) -> tuple[PlacedBox, re.Match[str]] | None:
    """The first box whose (transformed) text matches ``pattern`` from its start."""
    compiled = re.compile(pattern, flags)
    for box in boxes:
        match = compiled.search(transform(box.text))
        if match:
            return box, match
    return None


def iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def dotted_date(text: str) -> str | None:
    """``1990.01.02`` (permits) -> ISO."""
    match = re.search(r"(\d{4})[.,·](\d{2})[.,·](\d{2})", squeeze(text))
    return iso(int(match[1]), int(match[2]), int(match[3])) if match else None


def sex_of(text: str) -> str | None:
    """``男/M``, ``女 F``, ``M``: the canonical M/F, or ``None`` when the two halves disagree."""
    t = squeeze(text).upper()
    zh = "M" if "男" in t else "F" if "女" in t else None
    latin = re.findall(r"(?<![A-Z])([MF])(?![A-Z])", t)
    en = latin[-1] if latin else None
    if zh and en and zh != en:
        return None
    return zh or en


def reading(box: PlacedBox, value: object, *, checked: bool = False, label_free: bool = False) -> Reading:
    return Reading(value=value, raw=box.text, score=box.score, checked=checked, label_free=label_free)
