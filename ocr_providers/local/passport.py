"""Mainland China passport data page: TD3 machine code first, then the labelled visual zone.

Labels sit above their values (``出生日期/Date of birth`` over ``13 6月/JUN 1994``). The machine code
confirms the number, birth and expiry dates by check digit; its names have no check digit and are
only used when the visual zone agrees (re-reading the name line until it does, OFFLINE-OCR.md
pitfall 3). The optional field's GBK letters confirm the Chinese name.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ocr_providers.local.confidence import Reading
from ocr_providers.local.extraction import Extraction, mrz_reading
from ocr_providers.local.fallback import Parse, above, free_reading, ranked, sex_strict, sole
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.mrz_read import MrzRead
from ocr_providers.local.mrz_repair import normalise
from ocr_providers.local.page import Page
from ocr_providers.local.permits import validity_checked
from ocr_providers.local.viz import MONTHS, clean, find_label, is_cjk, iso, reading, sex_of, squeeze
from ocr_providers.machine_codes import gbk_letters, gbk_letters_decode, parse_td3

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
    match = re.search(r"(\d{1,4})月/?([A-Z0]{3})(\d{4})", t)
    letters = match[2].replace("0", "O") if match else ""  # ``0CT``: the letter O read as a zero
    if not match or letters not in MONTHS:
        return None
    month = MONTHS.index(letters) + 1
    digits = match[1]
    if not digits.endswith(str(month)) or len(digits) <= len(str(month)):
        return None
    return iso(int(match[3]), month, int(digits[: -len(str(month))]))


def _place(text: str) -> str | None:
    match = re.fullmatch(r"([\u4e00-\u9fff]{2,4})/?[A-Z]+", squeeze(text).upper())
    return match[1] if match else None


def _birth_or_issue_place(text: str) -> str | None:
    # Garbled labels (``签发地点/Place of``) have the same shape as a place; nationality too.
    if squeeze(text).startswith("中国") or re.search(r"地点|日期|签发|出生|机关|有效|护照", text):
        return None
    return _place(text)


def _full(pattern: str, group: int = 0) -> Parse:
    return lambda t: m[group] if (m := re.fullmatch(pattern, squeeze(t).upper())) else None


# Label-free lookups (``fallback``): a strict parser, and (rank, of) for look-alikes in one column.
_FREE: dict[str, tuple[Parse, tuple[int, int] | None]] = {
    "country_code": (_full(r"[A-Z]{3}"), None),
    "document_number": (_full(r"[EG][A-Z0-9]\d{7}"), None),
    "sex": (sex_strict, None),
    "nationality": (_full(r"中国/?([A-Z]{4,})", 1), None),
    "birth_date": (passport_date, (0, 3)),
    "issue_date": (passport_date, (1, 3)),
    "expiry_date": (passport_date, (2, 3)),
}


def _free(page: Page, ex: Extraction, name: str) -> Reading | None:
    """The value without its label (blur and small captures lose the labels first)."""
    if name not in _FREE:
        return None
    parse, rank = _FREE[name]
    # Boxes another field (or a label) already owns; look-alikes in one column keep their ranks.
    taken = tuple(b for key, b in ex.anchors.items() if key not in _FREE or _FREE[key][0] is not parse)
    hit = sole(page, parse, exclude=taken) if rank is None else ranked(page, parse, *rank, exclude=taken)
    if hit is None:
        return None
    ex.anchor(name, hit[0])
    return free_reading(hit)


def _beside(page: Page, ex: Extraction, name: str, row: str) -> Reading | None:
    """A place without its label: the place-shaped box on its date's row (birth place beside the
    birth date, issue place beside the issue date), further right in the same line."""
    date = ex.anchors.get(row)
    if date is None:
        return None
    for box in page.frame.right_of(date, max_gap=14.0):
        value = _birth_or_issue_place(box.text)
        if value:
            ex.anchor(name, box)
            return free_reading((box, value))
    return None


def _value(page: Page, ex: Extraction, key: str, accept: type[object] | None = None) -> list[PlacedBox]:
    label = find_label(page.frame, _LABELS[key])
    ex.anchor(f"{key}_label", label)
    return page.frame.below(label, max_lines=3.0) if label else []


def _simple(page: Page, ex: Extraction, name: str, parse: object, mrz: Reading | None = None) -> Reading | None:
    for box in _value(page, ex, name):
        value = parse(box.text)  # type: ignore[operator]
        if value:
            ex.anchor(name, box)
            return reading(box, value)
    return _free(page, ex, name)


def _name_boxes(page: Page, ex: Extraction, read: MrzRead | None, key: str) -> tuple[PlacedBox | None, ...]:
    """(Chinese, Latin) boxes of one name part: under its label, else the Latin box that spells the
    machine code's name part and the Chinese box right above it."""
    below = _value(page, ex, key)
    zh = next((b for b in below if is_cjk(b.text)), None)
    en = next((b for b in below if re.fullmatch(r"[A-Z][A-Z ]*", clean(b.text))), None)
    wanted = read.code.fields.get(key) if read and not read.ambiguous else None
    if en is None and wanted:
        en = next((b for b in page.viz_boxes() if clean(b.text) == wanted), None)
    if zh is None and en is not None:
        hit = above(page, en, lambda t: squeeze(t) if is_cjk(t) else None)
        zh = hit[0] if hit else None
    return zh, en


def _names(page: Page, ex: Extraction, read: MrzRead | None) -> None:
    parts = {key: _name_boxes(page, ex, read, key) for key in ("surname", "given_names")}
    mrz_fields = read.code.fields if read else {}
    for key, canonical in (("surname", "surname_en"), ("given_names", "given_names_en")):
        en = parts[key][1]
        viz = reading(en, clean(en.text)) if en else None
        ex.anchor(canonical, en)
        mrz_value = _agreeing_name(page, read, key, viz.value if viz else None) if read else None
        mrz = Reading(mrz_value, str(mrz_fields.get(key)), read.score) if read and mrz_value else None
        ex.put(canonical, viz, mrz, prefer_viz=True)
    # The optional field carries the name's first three characters as GBK letters, under a check digit.
    opt = mrz_fields.get("optional") if read and read.code.checks.get("optional") else None
    zh_boxes = [parts["surname"][0], parts["given_names"][0]]
    if all(zh_boxes):
        name = "".join(squeeze(b.text) for b in zh_boxes if b)
        score = min(b.score for b in zh_boxes if b)
        confirmed = bool(opt) and _gbk(name[:3]) == opt
        printed = Reading(name, name, score, checked=confirmed)
        ex.put("name_zh", printed, None if confirmed or not read else _optional_disagreeing(read, opt, name))
    elif read is not None and opt:
        ex.put("name_zh", _name_from_optional(read, str(opt), zh_boxes[1]))


def _optional_disagreeing(read: MrzRead, opt: object, printed: str) -> Reading | None:
    """The optional field's name when it is the whole name and the printed one (as long) differs:
    a look-alike character (``郝`` read as ``都``) breaks the GBK letters, and the field's check digit
    makes them the better witness. Fused as a disagreement, so it is never confident."""
    decoded = gbk_letters_decode(str(opt)) if opt else None
    if not decoded or read.ambiguous or not read.code.valid or len(decoded) != len(printed):
        return None
    return Reading(decoded, str(opt), read.score, checked=True, repairs=read.toggles)


def _name_from_optional(read: MrzRead, opt: str, given: PlacedBox | None) -> Reading | None:
    """The Chinese name decoded from the optional field when a printed part is unreadable.

    The field holds only the first three characters: fewer than three decoded means the whole name;
    three are the whole name only if they end with the printed given name.
    """
    decoded = gbk_letters_decode(opt)
    if not decoded or read.ambiguous or not read.code.valid:
        return None
    whole = len(decoded) < 3 or (given is not None and decoded.endswith(squeeze(given.text)))
    if not whole:
        return None
    # A repaired code could hide a double error; then the name stays a plain (unconfirmed) read.
    return Reading(decoded, opt, read.score, checked=not read.toggles)


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
    _names(page, ex, read)  # first: their boxes are then off limits to the label-free lookups
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
    ):  # fmt: skip
        viz = _simple(page, ex, name, parse)
        if name != "type":
            ex.put(name, viz, mrz)
    issue = _simple(page, ex, "issue_date", passport_date)
    expiry = ex.fields.get("expiry_date")
    if issue and expiry and (expiry.field.confidence or 0) >= 0.99:
        issue = replace(issue, checked=validity_checked(issue.value, expiry.field.value))
    ex.put("issue_date", issue)
    for name, row in (("birth_place", "birth_date"), ("issue_place", "issue_date")):
        ex.put(name, _simple(page, ex, name, _place) or _beside(page, ex, name, row))
    if read is not None and read.valid:
        value = "\n".join(read.code.lines)
        # A repair is confirmed when the optional field's GBK letters spell the printed name.
        name_zh = ex.fields.get("name_zh")
        optional = read.code.fields.get("optional")
        confirmed = name_zh is not None and _gbk(str(name_zh.field.value)[:3]) == optional
        repairs = 0 if confirmed else read.toggles
        ex.put("mrz", None, Reading(value, value, read.score, checked=True, repairs=repairs))
    return ex
