"""Chinese Commercial Code telecodes (the four-digit groups under an HKID's English name).

Digits OCR far more reliably than traditional characters, so the decoded telecodes confirm or correct
the Chinese name the recogniser read (OFFLINE-OCR.md pitfall 4). The table is generated from Unihan
``kTaiwanTelegraph`` by ``data/regenerate_telecodes.py`` (Unicode licence in ``data/``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

__all__ = ["decode", "split_groups"]

_TABLE = Path(__file__).with_name("data") / "telecodes.tsv"


@cache
def _table() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, char = line.split("\t")
            out[code] = char
    return out


def split_groups(text: str) -> list[str] | None:
    """``"7115 1129 2429"`` or ``"711511292429"`` -> four-digit groups; ``None`` if not telecodes."""
    digits = re.sub(r"\s", "", text)
    if not digits.isdigit() or len(digits) % 4 or not 4 <= len(digits) <= 24:
        return None
    return [digits[i : i + 4] for i in range(0, len(digits), 4)]


def decode(groups: list[str]) -> str | None:
    """The characters for the groups, or ``None`` if any group is not a known telecode."""
    table = _table()
    chars = [table.get(g) for g in groups]
    if any(c is None for c in chars):
        return None
    return "".join(c for c in chars if c)
