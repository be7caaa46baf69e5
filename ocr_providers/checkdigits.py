"""Check-digit rules shared by the checks, the offline engine and the specimen generator.

* ICAO 9303 (Doc 9303 Part 3, 4.9): ``0-9`` -> 0-9, ``A-Z`` -> 10-35, ``<`` -> 0, weights 7-3-1, mod 10.
  Used by the passport TD3 zone and the permits' machine codes.
* HKID: a one-letter prefix is padded with a space worth 36 (two-letter prefixes use both letters,
  ``A``-``Z`` -> 10-35), digits at face value, weights 9..2; check = 11 - (sum mod 11), where 10 is
  written ``A`` and 11 is written ``0``.
"""

from __future__ import annotations

import re

__all__ = [
    "hkid_check_char",
    "hkid_is_valid",
    "hkid_normalise",
    "icao_check_digit",
    "icao_is_valid",
]

_HKID_RE = re.compile(r"^([A-Z]{1,2})([0-9]{6})([0-9A])$")


def _icao_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise ValueError(f"character {char!r} is not allowed in a machine-readable zone")


def icao_check_digit(data: str) -> str:
    """The ICAO 9303 check digit of ``data`` as a one-character string."""
    weights = (7, 3, 1)
    total = sum(_icao_value(c) * weights[i % 3] for i, c in enumerate(data))
    return str(total % 10)


def icao_is_valid(data: str, check: str) -> bool:
    """True when ``check`` is the ICAO check digit of ``data``. ``<`` as a check digit counts as 0."""
    if len(check) != 1:
        return False
    try:
        return icao_check_digit(data) == ("0" if check == "<" else check)
    except ValueError:
        return False


def hkid_normalise(number: str) -> str:
    """``a123456(3)``, ``A 123456 3`` and ``A1234563`` all become ``A1234563``."""
    return re.sub(r"[\s()\[\]\-]", "", number).upper()


def hkid_check_char(prefix_and_digits: str) -> str:
    """Check character for ``A123456`` or ``AB123456`` (no check character, no brackets)."""
    body = hkid_normalise(prefix_and_digits)
    match = re.fullmatch(r"([A-Z]{1,2})([0-9]{6})", body)
    if not match:
        raise ValueError("an HKID body is one or two letters followed by six digits")
    letters, digits = match.groups()
    values = [36] if len(letters) == 1 else []
    values += [ord(c) - ord("A") + 10 for c in letters]
    values += [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    check = 11 - total % 11
    return {10: "A", 11: "0"}.get(check, str(check))


def hkid_is_valid(number: str) -> bool:
    """True for a well-formed HKID number whose check character is right, in any common spelling."""
    match = _HKID_RE.fullmatch(hkid_normalise(number))
    if match is None:
        return False
    return hkid_check_char(match.group(1) + match.group(2)) == match.group(3)
