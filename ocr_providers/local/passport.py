"""Mainland China passport data page: TD3 machine code first, then the labelled visual zone.

Labels sit above their values (``出生日期/Date of birth`` over ``13 6月/JUN 1994``). The machine code
confirms the number, birth and expiry dates by check digit; its names have no check digit and are
only used when the visual zone agrees (re-reading the name line until it does, OFFLINE-OCR.md
pitfall 3). The optional field's GBK letters confirm the Chinese name.
"""

from __future__ import annotations

import re

from ocr_providers.local.confidence import Reading
from ocr_providers.local.extraction import Extraction, mrz_reading
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.mrz_read import MrzRead
from ocr_providers.local.mrz_repair import normalise
from ocr_providers.local.page import Page
from ocr_providers.local.permits import validity_checked
from ocr_providers.local.viz import MONTHS, clean, find_label, is_cjk, iso, reading, sex_of, squeeze
from ocr_providers.machine_codes import gbk_letters, parse_td3

__all__ = ["front", "passport_date"]

_LABELS = {
    "type": r"类型|^TYPE$|/TYPE",
    "country_code": r"国家码|COUNTRYCODE",
    "document_number": r"护照号|PASSPORTNO",
    "surname": r"^姓/|^姓$|SURNAME",
    "given_names": r"^名/|^名$|GIVENNAMES",
    "sex": r"性别|/SEX",
    "nationality": r"国籍|NATIONALITY",
    "birth_date": r"出生日期|DATEOFBIRTH",
    "birth_place": r"出生地点|PLACEOFBIRTH",
    "issue_date": r"签发日期|DATEOFISSUE",
    "issue_place": r"签发地点|PLACEOFISSUE",
    "expiry_date": r"有效期至|DATEOFEXPIRY",
}


def passport_date(text: str) -> str | None:
    """``13 6月/JUN 1994`` (or ``1610月/OCT 2021``, the space lost) -> ISO; the month must be
    printed consistently in figures and letters."""
    t = squeeze(text).upper()
    match = re.search(r"(\d{1,4})月/?([A-Z]{3})(\d{4})", t)
    if not match or match[2] not in MONTHS:
        return None
    month = MONTHS.index(match[2]) + 1
    digits = match[1]
    if not digits.endswith(str(month)) or len(digits) <= len(str(month)):
        return None
    return iso(int(match[3]), month, int(digits[: -len(str(month))]))


def _place(text: str) -> str | None:
    match = re.fullmatch(r"([\u4e00-\u9fff]{2,4})/?[A-Z]+", squeeze(text).upper())
    return match[1] if match else None


def _value(page: Page, ex: Extraction, key: str, accept: type[object] | None = None) -> list[PlacedBox]:
    label = find_label(page.frame, _LABELS[key])
    ex.anchor(f"{key}_label", label)
    return page.frame.below(label, max_lines=3.0) if label else []


def _simple(
    page: Page, ex: Extraction, name: str, parse: object, mrz: Reading | None = None
) -> Reading | None:
    for box in _value(page, ex, name):
        value = parse(box.text)  # type: ignore[operator]
        if value:
            ex.anchor(name, box)
            return reading(box, value)
    return None


def _names(page: Page, ex: Extraction, read: MrzRead | None) -> None:
    parts: dict[str, tuple[PlacedBox | None, PlacedBox | None]] = {}
    for key in ("surname", "given_names"):
        below = _value(page, ex, key)
        zh = next((b for b in below if is_cjk(b.text)), None)
        en = next((b for b in below if re.fullmatch(r"[A-Z][A-Z ]*", clean(b.text))), None)
        parts[key] = (zh, en)
    mrz_fields = read.code.fields if read else {}
    for key, canonical in (("surname", "surname_en"), ("given_names", "given_names_en")):
        en = parts[key][1]
        viz = reading(en, clean(en.text)) if en else None
        ex.anchor(canonical, en)
        mrz_value = _agreeing_name(page, read, key, viz.value if viz else None) if read else None
        mrz = Reading(mrz_value, str(mrz_fields.get(key)), read.score) if read and mrz_value else None
        ex.put(canonical, viz, mrz, prefer_viz=True)
    zh_boxes = [parts["surname"][0], parts["given_names"][0]]
    if all(zh_boxes):
        name = "".join(squeeze(b.text) for b in zh_boxes if b)
        score = min(b.score for b in zh_boxes if b)
        # The optional field carries the name's first three characters as GBK letters, under a check digit.
        opt = mrz_fields.get("optional") if read and read.code.checks.get("optional") else None
        confirmed = bool(opt) and _gbk(name[:3]) == opt
        ex.put("name_zh", Reading(name, name, score, checked=confirmed))


def _gbk(text: str) -> str | None:
    try:
        return gbk_letters(text)
    except UnicodeEncodeError:
        return None


def _agreeing_name(page: Page, read: MrzRead, key: str, viz: str | None) -> str | None:
    """The machine-code name part, re-reading line 1 until it agrees with the visual zone."""
    value = read.code.fields.get(key)
    if viz is None or value == viz:
        return value
    line = read.lines[0]
    for index in range(5):
        text = normalise(page.reread(line.quad, index))
        try:
            again = parse_td3([text[:44].ljust(44, "<"), read.code.lines[1]]).fields.get(key)
        except ValueError:
            continue
        if again == viz:
            return again
    return value


def front(page: Page) -> Extraction:
    """The data page."""
    read = page.machine_code("td3")
    ex = Extraction(machine=read)
    nationality = "CHINESE" if read and read.code.fields.get("nationality") == "CHN" else None
    for name, parse, mrz in (
        ("type", lambda t: squeeze(t) if squeeze(t) in ("P", "PD", "PS") else None, None),
        ("country_code", lambda t: squeeze(t) if re.fullmatch(r"[A-Z]{3}", squeeze(t)) else None,
         mrz_reading(read, "issuing_state", checked_by="")),
        ("document_number", lambda t: squeeze(t) if re.fullmatch(r"[EG][A-Z0-9]\d{7}", squeeze(t)) else None,
         mrz_reading(read, "document_number")),
        ("sex", sex_of, mrz_reading(read, "sex", checked_by="")),
        ("nationality", lambda t: m[1] if (m := re.search(r"/?([A-Z]{4,})$", squeeze(t).upper())) else None,
         mrz_reading(read, "nationality", nationality, checked_by="")),
        ("birth_date", passport_date, mrz_reading(read, "birth_date")),
        ("expiry_date", passport_date, mrz_reading(read, "expiry_date")),
        ("birth_place", _place, None),
        ("issue_place", _place, None),
    ):  # fmt: skip
        viz = _simple(page, ex, name, parse)
        if name != "type":
            ex.put(name, viz, mrz)
    issue = _simple(page, ex, "issue_date", passport_date)
    expiry = ex.fields.get("expiry_date")
    if issue and expiry and (expiry.field.confidence or 0) >= 0.99:
        issue = Reading(
            issue.value, issue.raw, issue.score, checked=validity_checked(issue.value, expiry.field.value)
        )
    ex.put("issue_date", issue)
    _names(page, ex, read)
    if read is not None and read.valid:
        value = "\n".join(read.code.lines)
        # A repair is confirmed when the optional field's GBK letters spell the printed name.
        name_zh = ex.fields.get("name_zh")
        optional = read.code.fields.get("optional")
        confirmed = name_zh is not None and _gbk(str(name_zh.field.value)[:3]) == optional
        repairs = 0 if confirmed else read.toggles
        ex.put("mrz", None, Reading(value, value, read.score, checked=True, repairs=repairs))
    return ex
