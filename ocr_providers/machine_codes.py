"""Builders and strict parsers for the machine-readable codes of the four documents.

Three layouts (see OFFLINE-OCR.md section 3), all with ICAO 9303 check digits:

* ``td3``: the passport's 2 x 44 zone (ICAO Doc 9303 Part 4).
* ``eep``: the Exit-Entry Permit's one 30-character line, ``CS``/``CD`` + number(9) + check + ``<`` +
  expiry + check + ``<`` + birth + check + ``<`` + composite (over characters 3-12, 14-20, 22-28).
* ``mtp``: the Mainland Travel Permit's 3 x 30 block. **Reconstructed layout** (GA/T 704.14 is paid
  and unpublished): line 1 is the EEP pattern with code ``CR``; line 2 is the GBK-letter name (16),
  ``<``, sex, ``<``, the two-digit issue count, ``<`` padding and a check digit over characters 1-29;
  line 3 is ``SURNAME<<GIVEN<NAMES``.

Parsers are strict about shape (length, alphabet) and raise :class:`MachineCodeError` when a code cannot
be split into fields at all; a code with the right shape but wrong check digits parses, and says so in
``MachineCode.checks``. Typical use::

    code = parse_td3(ocr_lines)          # str with "\\n" or a sequence of two lines
    if code.valid:
        number = code.fields["document_number"]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from ocr_providers.checkdigits import icao_check_digit, icao_is_valid

__all__ = [
    "PERMIT_CODES",
    "MachineCode",
    "MachineCodeError",
    "build_eep",
    "build_mtp",
    "build_td3",
    "gbk_letters",
    "gbk_letters_decode",
    "mrz_name",
    "parse_eep",
    "parse_mtp",
    "parse_td3",
]

# Document codes of the permits' machine codes; the generator uses them as ``permit_type`` values.
PERMIT_CODES = {
    "CS": "往来港澳通行证",  # Exit-Entry Permit for travelling to and from Hong Kong and Macao
    "CD": "往来台湾通行证",  # Exit-Entry Permit for travelling to and from Taiwan
    "CR": "港澳居民来往内地通行证",  # Mainland Travel Permit for HK and Macao residents
}

_ALPHABET = re.compile(r"^[A-Z0-9<]*$")
# Nibble -> letter for the GBK-letter name encoding: 0-9 -> A-J, A-F -> K-P.
_NIBBLES = "ABCDEFGHIJKLMNOP"


class MachineCodeError(ValueError):
    """The text does not have the shape of the requested machine code (wrong length or alphabet)."""


@dataclass(frozen=True)
class MachineCode:
    """A parsed machine code.

    ``fields`` holds canonical values: dates as ISO strings (``None`` when not a calendar date), names
    with ``<`` turned into spaces, numbers without filler. ``checks`` maps each check digit's name to
    whether it validates; ``valid`` is true when all of them do.
    """

    kind: str
    lines: tuple[str, ...]
    fields: dict[str, str | None] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


# --- shared helpers ---------------------------------------------------------------------------------


def _yymmdd(value: date) -> str:
    return value.strftime("%y%m%d")


def _iso(yymmdd: str, *, future: bool, today: date | None = None) -> str | None:
    """YYMMDD -> ISO. Expiry dates are 20YY; birth dates are 19YY unless that would be in the future."""
    if not yymmdd.isdigit():
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if future:
        year = 2000 + yy
    else:
        this_year = (today or date.today()).year % 100  # noqa: DTZ011 - a calendar date, no zone involved
        year = 2000 + yy if yy <= this_year else 1900 + yy
    try:
        return date(year, mm, dd).isoformat()
    except ValueError:
        return None


def _pad(text: str, width: int) -> str:
    if len(text) > width:
        raise ValueError(f"{text!r} is longer than {width} characters")
    return text + "<" * (width - len(text))


def _split_lines(lines: str | Sequence[str], count: int, width: int, kind: str) -> tuple[str, ...]:
    parts = lines.split() if isinstance(lines, str) else [line.strip() for line in lines]
    parts = [p for p in parts if p]
    if len(parts) != count or any(len(p) != width for p in parts):
        raise MachineCodeError(f"{kind} needs {count} line(s) of {width} characters, got {parts!r}")
    if not all(_ALPHABET.match(p) for p in parts):
        raise MachineCodeError(f"{kind} may only contain A-Z, 0-9 and '<'")
    return tuple(parts)


def _check(data: str, digit: str) -> bool:
    return icao_is_valid(data, digit)


def mrz_name(surname: str, given_names: str, width: int) -> str:
    """``ZHANG``, ``SAN FENG`` -> ``ZHANG<<SAN<FENG<<<...`` padded (and truncated) to ``width``."""

    def clean(part: str) -> str:
        return re.sub(r"[^A-Z]+", "<", part.upper()).strip("<")

    name = clean(surname) + ("<<" + clean(given_names) if given_names.strip() else "")
    return _pad(name[:width], width)


def _names(text: str) -> tuple[str, str]:
    surname, _, given = text.rstrip("<").partition("<<")
    return surname.replace("<", " "), given.replace("<", " ").strip()


def gbk_letters(name_zh: str) -> str:
    """GBK bytes of a Chinese name as letters: each hex nibble 0-9 -> A-J, A-F -> K-P (证 -> NGKE)."""
    return "".join(_NIBBLES[b >> 4] + _NIBBLES[b & 15] for b in name_zh.encode("gbk"))


def gbk_letters_decode(letters: str) -> str | None:
    """Inverse of :func:`gbk_letters`; ``None`` if the letters are not valid GBK (e.g. misread)."""
    letters = letters.rstrip("<")
    if len(letters) % 2 or any(c not in _NIBBLES for c in letters):
        return None
    data = bytes(_NIBBLES.index(a) * 16 + _NIBBLES.index(b) for a, b in zip(letters[::2], letters[1::2], strict=True))
    try:
        return data.decode("gbk")
    except UnicodeDecodeError:
        return None


# --- TD3 (passport, 2 x 44) -------------------------------------------------------------------------


def build_td3(
    *,
    issuing_state: str,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    birth_date: date,
    sex: str,
    expiry_date: date,
    optional: str = "",
    document_code: str = "P",
) -> tuple[str, str]:
    """The two 44-character lines of a passport's machine-readable zone."""
    line1 = _pad(document_code, 2) + issuing_state + mrz_name(surname, given_names, 39)
    number = _pad(document_number, 9)
    opt = _pad(optional, 14)
    body = (
        number
        + icao_check_digit(number)
        + nationality
        + _yymmdd(birth_date)
        + icao_check_digit(_yymmdd(birth_date))
        + (sex or "<")
        + _yymmdd(expiry_date)
        + icao_check_digit(_yymmdd(expiry_date))
        + opt
        + (icao_check_digit(opt) if optional else "<")
    )
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1, body + icao_check_digit(composite)


def parse_td3(lines: str | Sequence[str]) -> MachineCode:
    """Parse a TD3 zone into ``document_code, issuing_state, surname, given_names, document_number,
    nationality, birth_date, sex, expiry_date, optional`` with checks ``document_number, birth_date,
    expiry_date, optional, composite``."""
    l1, l2 = _split_lines(lines, 2, 44, "TD3")
    surname, given = _names(l1[5:])
    opt = l2[28:42]
    fields: dict[str, str | None] = {
        "document_code": l1[0:2].rstrip("<"),
        "issuing_state": l1[2:5].replace("<", ""),
        "surname": surname,
        "given_names": given,
        "document_number": l2[0:9].rstrip("<"),
        "nationality": l2[10:13].replace("<", ""),
        "birth_date": _iso(l2[13:19], future=False),
        "sex": l2[20].replace("<", "") or None,
        "expiry_date": _iso(l2[21:27], future=True),
        "optional": opt.rstrip("<"),
    }
    checks = {
        "document_number": _check(l2[0:9], l2[9]),
        "birth_date": _check(l2[13:19], l2[19]),
        "expiry_date": _check(l2[21:27], l2[27]),
        # An empty optional field may carry '<' or '0' as its check digit (Doc 9303 Part 4, 4.2.2).
        "optional": _check(opt, l2[42]) if opt.strip("<") else l2[42] in "<0",
        "composite": _check(l2[0:10] + l2[13:20] + l2[21:43], l2[43]),
    }
    return MachineCode("td3", (l1, l2), fields, checks)


# --- permit line 1: EEP (CS/CD) and MTP (CR) --------------------------------------------------------


def _permit_line(code: str, document_number: str, expiry_date: date, birth_date: date) -> str:
    number = _pad(document_number, 9)
    expiry, birth = _yymmdd(expiry_date), _yymmdd(birth_date)
    line = (
        code
        + number
        + icao_check_digit(number)
        + "<"
        + expiry
        + icao_check_digit(expiry)
        + "<"
        + birth
        + icao_check_digit(birth)
        + "<"
    )
    return line + icao_check_digit(line[2:12] + line[13:20] + line[21:28])


def _parse_permit_line(line: str) -> tuple[dict[str, str | None], dict[str, bool]]:
    fields: dict[str, str | None] = {
        "document_code": line[0:2],
        "document_number": line[2:11].rstrip("<"),
        "expiry_date": _iso(line[13:19], future=True),
        "birth_date": _iso(line[21:27], future=False),
    }
    checks = {
        "document_number": _check(line[2:11], line[11]),
        "expiry_date": _check(line[13:19], line[19]),
        "birth_date": _check(line[21:27], line[27]),
        "composite": _check(line[2:12] + line[13:20] + line[21:28], line[29]),
    }
    return fields, checks


def build_eep(*, document_number: str, expiry_date: date, birth_date: date, document_code: str = "CS") -> str:
    """The Exit-Entry Permit's 30-character line (``document_code`` is ``CS`` or ``CD``)."""
    if document_code not in ("CS", "CD"):
        raise ValueError("an Exit-Entry Permit code is CS (HK/Macao) or CD (Taiwan)")
    return _permit_line(document_code, document_number, expiry_date, birth_date)


def parse_eep(line: str | Sequence[str]) -> MachineCode:
    """Parse the EEP line into ``document_code, document_number, expiry_date, birth_date`` with checks
    ``document_number, expiry_date, birth_date, composite``. Raises if the code is not CS/CD."""
    (text,) = _split_lines(line, 1, 30, "EEP code")
    if text[:2] not in ("CS", "CD"):
        raise MachineCodeError(f"an EEP code starts with CS or CD, not {text[:2]!r}")
    fields, checks = _parse_permit_line(text)
    return MachineCode("eep", (text,), fields, checks)


# --- MTP (3 x 30, reconstructed) --------------------------------------------------------------------


def build_mtp(
    *,
    document_number: str,
    expiry_date: date,
    birth_date: date,
    name_zh: str,
    sex: str,
    issue_times: str,
    surname: str,
    given_names: str,
) -> tuple[str, str, str]:
    """The Mainland Travel Permit's three 30-character lines (reconstructed layout, see module doc).

    Names longer than four characters are cut to four in the GBK field (16 letters).
    """
    line1 = _permit_line("CR", document_number, expiry_date, birth_date)
    name = _pad(gbk_letters(name_zh[:4]), 16)
    body = _pad(f"{name}<{sex or '<'}<{int(issue_times):02d}", 29)
    line2 = body + icao_check_digit(body)
    return line1, line2, mrz_name(surname, given_names, 30)


def parse_mtp(lines: str | Sequence[str]) -> MachineCode:
    """Parse the MTP block into ``document_code, document_number, expiry_date, birth_date, name_zh,
    sex, issue_times, surname, given_names`` with checks ``document_number, expiry_date, birth_date,
    composite, line2``. ``name_zh`` is ``None`` when its letters are not valid GBK."""
    l1, l2, l3 = _split_lines(lines, 3, 30, "MTP code")
    if l1[:2] != "CR":
        raise MachineCodeError(f"an MTP code starts with CR, not {l1[:2]!r}")
    fields, checks = _parse_permit_line(l1)
    surname, given = _names(l3)
    fields |= {
        "name_zh": gbk_letters_decode(l2[0:16]),
        "sex": l2[17].replace("<", "") or None,
        "issue_times": l2[19:21],
        "surname": surname,
        "given_names": given,
    }
    checks["line2"] = _check(l2[0:29], l2[29])
    return MachineCode("mtp", (l1, l2, l3), fields, checks)
