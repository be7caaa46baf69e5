"""Helpers that turn what a vendor read into canonical values (see ``documents.FIELDS``).

Conventions (shared with the specimen generator's ground truth): ISO dates; sex ``M``/``F``; English names
as ``SURNAME, GIVEN NAMES``; HKID numbers with the check character in brackets (``A123456(3)``); telecodes
as space-separated groups of four digits; ``permit_type`` ``hk_mo`` or ``tw``; machine-readable lines joined
with ``\\n``; a month-only date (the HKID first-issue ``(MM-YY)``) as the first day of that month.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ocr_providers.base import OcrField, Point, Portrait
from ocr_providers.checkdigits import hkid_normalise
from ocr_providers.documents import DocumentType, Side

__all__ = [
    "Extraction",
    "clean",
    "decode_portrait",
    "hkid_number",
    "name_en",
    "parse_date",
    "parse_sex",
    "permit_type",
    "round_trips",
    "split_validity",
    "strip_images",
    "telecode",
]

_MONTHS = {
    m: i
    for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)
}
_DATE_TOKEN = re.compile(
    r"\d{4}\s*[.\-/年]\s*\d{1,2}\s*[.\-/月]\s*\d{1,2}日?"  # 2018.10.09, 2018-10-09, 2018年10月9日
    r"|\d{1,2}\s*[.\-/ ]\s*\d{1,2}\s*[.\-/ ]\s*\d{4}"  # 09-10-2018 (day first)
    r"|\d{1,2}\s+[A-Za-z]{3}\s+\d{4}"  # 09 OCT 2018
    r"|\d{8}"  # 20181009
)


@dataclass
class Extraction:
    """What a mapping function reads out of one vendor payload, before provider metadata is added."""

    document_type: DocumentType | None
    side: Side | None
    fields: dict[str, OcrField] = field(default_factory=dict)
    portraits: list[Portrait] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def put(self, name: str, value: Any, raw: Any, confidence: float | None = None, source: str = "vendor") -> None:
        """Add a field when the vendor read something (empty strings and ``None`` are skipped)."""
        if value is None or value == "" or value == []:
            return
        self.fields[name] = OcrField(value=value, raw=_raw(raw), confidence=confidence, source=source)

    def put_text(self, name: str, raw: Any, confidence: float | None = None, source: str = "vendor") -> None:
        self.put(name, clean(raw), raw, confidence, source)

    def put_date(
        self,
        name: str,
        raw: Any,
        confidence: float | None = None,
        *,
        source: str = "vendor",
        shown: Any = None,
    ) -> None:
        """Add an ISO date; ``shown`` is the text to keep as read when ``raw`` was cut out of a longer one."""
        value = parse_date(clean(raw), future_ok=name == "expiry_date")
        self.put(name, value, raw if shown is None else shown, confidence, source)

    def warn(self, *warnings: str) -> None:
        for warning in map(str, warnings):
            if warning not in self.warnings:
                self.warnings.append(warning)


def _raw(raw: Any) -> str:
    return raw if isinstance(raw, str) else ("" if raw is None else str(raw))


def clean(raw: Any) -> str:
    """Vendor text with surrounding whitespace removed (``None`` becomes ``""``)."""
    return raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))


def parse_date(raw: str, *, future_ok: bool = True) -> str | None:
    """ISO date from the spellings the vendors use, or ``None`` when ``raw`` is not a date.

    Year-first forms are tried first; a four-digit year at the end means day first (``01-01-2001``, HKID);
    two-digit years (``23-09-10``) are day first as printed on the HKID, with the century chosen so that
    the date is not in the future (``future_ok`` allows up to 20 years ahead, for expiry dates).
    """
    text = raw.strip().strip("()")
    for parse in (_parse_ymd, _parse_dmy_text, _parse_dmy, _parse_two_digit_year):
        parsed = parse(text, future_ok)
        if parsed:
            return parsed.isoformat()
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _parse_ymd(text: str, _future_ok: bool) -> date | None:
    m = re.fullmatch(r"(\d{4})\s*[.\-/年]?\s*(\d{1,2})\s*[.\-/月]?\s*(\d{1,2})日?", text)
    if not m or (len(text) == 8 and not text.isdigit()):
        return None
    return _safe_date(int(m[1]), int(m[2]), int(m[3]))


def _parse_dmy(text: str, _future_ok: bool) -> date | None:
    m = re.fullmatch(r"(\d{1,2})\s*[.\-/ ]\s*(\d{1,2})\s*[.\-/ ]\s*(\d{4})", text)
    return _safe_date(int(m[3]), int(m[2]), int(m[1])) if m else None


def _parse_dmy_text(text: str, _future_ok: bool) -> date | None:
    m = re.fullmatch(r"(\d{1,2})\s*[ \-/]?\s*([A-Za-z]{3})[A-Za-z]*\s*[ \-/]?\s*(\d{4})", text)
    if not m or m[2].upper() not in _MONTHS:
        return None
    return _safe_date(int(m[3]), _MONTHS[m[2].upper()], int(m[1]))


def _parse_two_digit_year(text: str, future_ok: bool) -> date | None:
    m = re.fullmatch(r"(\d{1,2})[.\-/ ](\d{1,2})[.\-/ ](\d{2})", text)
    if m:
        return _safe_date(_century(int(m[3]), future_ok), int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2})[.\-/ ](\d{2})", text)  # HKID first issue (MM-YY)
    if m:
        return _safe_date(_century(int(m[2]), future_ok=False), int(m[1]), 1)
    return None


def _century(yy: int, future_ok: bool) -> int:
    this_year = datetime.now(UTC).year
    limit = this_year % 100 + (20 if future_ok else 0)
    return 2000 + yy if yy <= limit else 1900 + yy


def split_validity(raw: str) -> tuple[str, str]:
    """``2018.10.09-2028.10.08`` -> (``2018.10.09``, ``2028.10.08``); missing parts are ``""``.

    The vendors write the range with ``-``, ``~``, ``至`` or an en dash, and the dates themselves may use
    ``-``, so we find the date tokens rather than splitting on the separator. ``长期`` (no expiry) stays
    empty.
    """
    tokens = _DATE_TOKEN.findall(raw or "")
    issue = tokens[0] if tokens else ""
    expiry = tokens[1] if len(tokens) > 1 else ""
    return issue, expiry


def parse_sex(raw: Any) -> str | None:
    """``M``/``F`` from ``男``, ``女F``, ``Male``, ``F`` and friends."""
    text = clean(raw).upper()
    if not text:
        return None
    if "女" in text or "FEMALE" in text or text in {"F", "女F"} or text.endswith("F"):
        return "F"
    if "男" in text or "MALE" in text or text.startswith("M") or text.endswith("M"):
        return "M"
    return None


def name_en(raw: Any) -> str:
    """``CHAN,TAI MAN`` -> ``CHAN, TAI MAN``; other spellings are kept as read."""
    text = re.sub(r"\s+", " ", clean(raw))
    return re.sub(r"\s*,\s*", ", ", text) if "," in text else text


def hkid_number(raw: Any) -> str:
    """``C000000(E)``, ``c000000e`` and ``C 000000 E`` all become ``C000000(E)``."""
    text = hkid_normalise(clean(raw))
    m = re.fullmatch(r"([A-Z]{1,2}[0-9]{6})([0-9A])", text)
    return f"{m[1]}({m[2]})" if m else clean(raw)


def telecode(raw: Any) -> str:
    """Telegraph codes as groups of four digits separated by single spaces."""
    digits = re.sub(r"\D", "", clean(raw))
    if not digits or len(digits) % 4:
        return clean(raw)
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


# Canonical permit_type is the machine-code document code (ocr_providers.machine_codes.PERMIT_CODES);
# vendors give the printed title. CT (Taiwan residents' permit) is outside PERMIT_CODES but kept apart.
_PERMIT_TYPES = (
    ("台湾居民", "CT"),
    ("臺灣居民", "CT"),
    ("往来台湾", "CD"),
    ("港澳居民", "CR"),
    ("往来港澳", "CS"),
)


def permit_type(raw: Any) -> str:
    """``CS``/``CD`` (exit-entry permits) or ``CR``/``CT`` (travel permits) from the printed title."""
    text = clean(raw)
    for needle, value in _PERMIT_TYPES:
        if needle in text:
            return value
    return text


_ROUND_TRIPS = {"一次": 1, "壹次": 1, "二次": 2, "两次": 2, "贰次": 2, "多次": None}


def round_trips(raw: Any) -> int | None:
    """Endorsement trips: ``一次`` -> 1, ``二次`` -> 2, ``多次`` (multiple) -> ``None``; digits as numbers."""
    text = clean(raw)
    if text.isdigit():
        return int(text)
    return next((v for k, v in _ROUND_TRIPS.items() if k in text), None)


def sniff_image_type(data: bytes) -> str:
    # Neither vendor documents the portrait encoding (vendors.md Q6): sniff the magic bytes.
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"BM"):
        return "image/bmp"
    return "application/octet-stream"


def decode_portrait(b64: Any, corners: Iterable[Point] = ()) -> Portrait | None:
    """A ``Portrait`` from a vendor's base64 string, or ``None`` when absent or not base64."""
    if not isinstance(b64, str) or not b64.strip():
        return None
    try:
        data = base64.b64decode(b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return Portrait(image=data, corners=tuple(corners), content_type=sniff_image_type(data))


def corners_from_points(points: Any) -> tuple[Point, ...]:
    """Huawei's ``[[x, y], ...]`` quadrilateral as a tuple of points (empty when malformed)."""
    if not isinstance(points, list) or len(points) != 4:
        return ()
    try:
        return tuple((int(p[0]), int(p[1])) for p in points)
    except (TypeError, ValueError, IndexError):
        return ()


def corners_from_box(box: Any) -> tuple[Point, ...]:
    """Tencent's ``{X, Y, Width, Height}`` rectangle as four corners, clockwise from top-left."""
    if not isinstance(box, Mapping):
        return ()
    try:
        x, y, w, h = (int(box[k]) for k in ("X", "Y", "Width", "Height"))
    except (KeyError, TypeError, ValueError):
        return ()
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


_IMAGE_KEYS = frozenset(
    {
        "PortraitImage",
        "HeadImage",
        "SmallHeadImage",
        "Profile",
        "Image",
        "portrait_image",
        "image",
    }
)
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/=\r\n]{256,}")


def strip_images(payload: Any) -> Any:
    """A copy of ``payload`` with every base64 image replaced by a short marker, for ``OcrResult.raw``."""
    if isinstance(payload, Mapping):
        return {k: _strip_value(k, v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [strip_images(v) for v in payload]
    return payload


def _strip_value(key: str, value: Any) -> Any:
    if isinstance(value, str) and ((key in _IMAGE_KEYS and value) or _LONG_BASE64.fullmatch(value)):
        return f"<base64 stripped: {len(value)} chars>"
    return strip_images(value)


def confidence(value: Any) -> float | None:
    """A 0..1 confidence from a vendor number (percentages are scaled); ``None`` when absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value) / 100 if value > 1 else float(value)
    return max(0.0, min(1.0, number))
