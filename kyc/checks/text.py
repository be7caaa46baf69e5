"""Small helpers shared by the checks: forgiving name comparison, dates, masking, wording."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from ocr_providers.checkdigits import hkid_normalise

__all__ = ["iso_date", "join_words", "mask_number", "name_letters", "name_tokens", "names_agree"]

_HKID = re.compile(r"([A-Z]{1,2})([0-9]{6})([0-9A])")


def iso_date(value: Any) -> date | None:
    """A ``date`` from an ISO string (or a ``date``); ``None`` when it is not a calendar date."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def name_letters(text: str) -> str:
    """Latin letters only, upper case: ``CHAN, Tai-Man`` and ``CHAN<<TAI<MAN`` -> ``CHANTAIMAN``."""
    return re.sub(r"[^A-Z]", "", text.upper())


def name_tokens(text: str) -> list[str]:
    """Upper-case words, split on anything that is not a letter (spaces, commas, hyphens, ``<``)."""
    return [t for t in re.split(r"[^A-Z]+", text.upper()) if t]


def names_agree(first: str, second: str) -> bool:
    """Same letters in the same order, or the same words in any order (``Tai Man CHAN``)."""
    if name_letters(first) == name_letters(second):
        return bool(name_letters(first))
    return sorted(name_tokens(first)) == sorted(name_tokens(second))


def mask_number(number: str) -> str:
    """A document number safe to show in a detail: ``A123***(3)`` or ``E123*****``."""
    text = hkid_normalise(number)
    match = _HKID.fullmatch(text)
    if match:
        letters, digits, check = match.groups()
        return f"{letters}{digits[:3]}***({check})"
    return text[:4] + "*" * max(0, len(text) - 4)


def join_words(words: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
