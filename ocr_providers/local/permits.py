"""Exit-Entry Permit and Mainland Travel Permit fronts: labelled fields plus the machine code.

Both cards print labels above their values (``姓名 Name`` over the name), a red number top right and
an OCR-B machine code at the bottom: the EEP's single ``CS``/``CD`` line, the MTP's three-line ``CR``
block. The machine code is read first; every value the card prints twice is cross-checked.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

from ocr_providers.local.confidence import Reading
from ocr_providers.local.extraction import Extraction, mrz_reading
from ocr_providers.local.fallback import Hit, Parse, above, free_reading, sex_strict, sole
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.page import Page
from ocr_providers.local.viz import clean, dotted_date, find_label, is_cjk, reading, sex_of, squeeze

__all__ = ["eep_front", "mtp_front", "validity_checked"]

_TITLES = {
    "往来港澳": "CS",
    "往來港澳": "CS",
    "往来台湾": "CD",
    "往來台灣": "CD",
    "来往内地": "CR",
    "來往內地": "CR",
}
_NAME_EN = re.compile(r"^([A-Z][A-Z' -]*?)\s*,\s*([A-Za-z][A-Za-z' -]*)$")
# Blur turns the comma into a full stop (``MAK. CHI KIT``); accepted only when no comma is present.
_NAME_EN_STOP = re.compile(r"^([A-Z][A-Z'-]*)\s*\.\s*([A-Za-z][A-Za-z' -]*)$")
_NOT_AUTHORITY = re.compile(r"通行|共和|居民|往来|往來|来往|來往|机关|機關|地点|地點|日期|签发|簽發")


def _below(page: Page, label: PlacedBox | None, lines: float = 2.5) -> list[PlacedBox]:
    return page.frame.below(label, max_lines=lines) if label else []


def name_en(text: str) -> str | None:
    """``GAO,YU`` / ``TSUI, FAI SZE`` -> ``SURNAME, GIVEN NAMES`` with one space after the comma."""
    text = clean(text)
    match = _NAME_EN.match(text) or ("," not in text and _NAME_EN_STOP.match(text))
    if not match:
        return None
    given = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", match[2]).strip()
    return f"{match[1].strip()}, {given}"


def validity_checked(issue: str | None, expiry: str | None) -> bool:
    """Chinese documents expire the day before the 5th or 10th anniversary of issue."""
    if not issue or not expiry:
        return False
    start, end = date.fromisoformat(issue), date.fromisoformat(expiry)
    for years in (5, 10):
        try:
            anniversary = start.replace(year=start.year + years)
        except ValueError:
            anniversary = start.replace(year=start.year + years, day=28)
        if end == anniversary - timedelta(days=1):
            return True
    return False


def _title(page: Page, ex: Extraction, mrz: Reading | None) -> None:
    for box in page.frame.boxes:
        text = squeeze(box.text)
        code = next((c for k, c in _TITLES.items() if k in text), None)
        if code:
            ex.anchor("permit_type", box)
            ex.put("permit_type", reading(box, code), mrz)
            return
    ex.put("permit_type", None, mrz)


def _names(page: Page, ex: Extraction, mrz_zh: Reading | None, mrz_en: Reading | None) -> None:
    label = find_label(page.frame, r"^姓名|^NAME$|姓名NAME")
    ex.anchor("name_label", label)
    below = _below(page, label, 3.5)
    zh = next((b for b in below if is_cjk(b.text)), None)
    en = next((b for b in below if name_en(b.text)), None)
    if label is None:  # label-free: the one ``SURNAME, GIVEN`` box and the Chinese right above it
        en = hit[0] if (hit := sole(page, name_en)) else None
        zh = hit[0] if en and (hit := above(page, en, _cjk)) else None
    free = label is None
    ex.anchor("name_zh", zh)
    ex.anchor("name_en", en)
    zh_read = reading(zh, squeeze(zh.text), label_free=free) if zh else None
    if zh_read and en and mrz_zh is None and not _syllables_fit(str(zh_read.value), name_en(en.text)):
        # One character per pinyin syllable: ``邵勇`` beside ``SHAO, YONGYI`` lost its thin ``一``.
        zh_read = replace(zh_read, score=min(zh_read.score, 0.9))
    ex.put("name_zh", zh_read, mrz_zh)
    viz_en = name_en(en.text) if en else None
    if viz_en and mrz_en and viz_en.replace(" ", "") == str(mrz_en.value).replace(" ", ""):
        viz_en = str(mrz_en.value)  # the visual read lost a space (``MOK, CHIYAN``): the code keeps them
    ex.put("name_en", reading(en, viz_en, label_free=free) if en else None, mrz_en, prefer_viz=True)


# Mandarin syllables in pinyin without tones (initial, then final), longest alternatives first.
_PINYIN = re.compile(
    r"(?:ZH|CH|SH|[BPMFDTNLGKHJQXRZCSYW])?"
    r"(?:IANG|IONG|UANG|ANG|ENG|ING|ONG|IAO|IAN|UAI|UAN|UEN|AI|EI|AO|OU|AN|EN|ER|IA|IE|IU|IN|UA|UO|UI|UN|UE|VE|"
    r"A|O|E|I|U|V)"
)


def _syllables_fit(name_zh: str, latin: str | None) -> bool:
    """Whether a mainland name has as many characters as its pinyin has syllables; ``True`` when the
    Latin name does not parse as pinyin (no evidence either way)."""
    if not latin:
        return True
    words = re.sub(r"[^A-Z]", " ", latin.upper()).split()
    if not all(_PINYIN.fullmatch(w) or re.fullmatch(f"(?:{_PINYIN.pattern})+", w) for w in words):
        return True
    count = sum(len(_PINYIN.findall(w)) for w in words)
    return count == len(name_zh)


def _cjk(text: str) -> str | None:
    return squeeze(text) if is_cjk(text) else None


def _one_date(text: str) -> str | None:
    return dotted_date(text) if re.fullmatch(r"\d{4}[.,·]\d{2}[.,·]\d{2}", squeeze(text)) else None


def _two_dates(text: str) -> str | None:
    return squeeze(text) if len(re.findall(r"\d{4}\.\d{2}\.\d{2}", squeeze(text))) == 2 else None


def _authority_plausible(value: str) -> bool:
    """Issuing offices start with the ministry or a province or city (``公安部出入境管理局``,
    ``广东省公安厅``): a read that starts mid-name (``部出入境管理局``) lost characters to glare."""
    return bool(re.match(r"公安部|[\u4e00-\u9fff]{2,3}(省|市|自治区)", value))


def _authority(text: str) -> str | None:
    t = squeeze(text)
    return t if re.fullmatch(r"[\u4e00-\u9fff]{4,}", t) and not _NOT_AUTHORITY.search(t) else None


def _dated_fields(page: Page, ex: Extraction, read_birth: Reading | None, read_expiry: Reading | None) -> None:
    label = find_label(page.frame, r"出生日期|DATEOFBIRTH")
    box = next((b for b in _below(page, label) if dotted_date(b.text)), None)
    free = box is None and (box := _labelless(page, _one_date)) is not None
    ex.anchor("birth_date", box)
    ex.put("birth_date", reading(box, dotted_date(box.text), label_free=free) if box else None, read_birth)
    label = find_label(page.frame, r"有效期限|PERIODOF")
    box = next((b for b in _below(page, label) if _two_dates(b.text)), None)
    free = box is None and (box := _labelless(page, _two_dates)) is not None
    ex.anchor("validity", box)
    if box is None:
        ex.put("expiry_date", None, read_expiry)
        return
    issue, expiry = (dotted_date(part) for part in re.findall(r"\d{4}\.\d{2}\.\d{2}", squeeze(box.text)))
    ex.put("expiry_date", reading(box, expiry, label_free=free), read_expiry)
    # The issue date has no check digit; the 5/10-year rule against a checked expiry stands in for one.
    confirmed = read_expiry is not None and read_expiry.checked and validity_checked(issue, read_expiry.value)
    ex.put("issue_date", reading(box, issue, checked=confirmed, label_free=free))


def _labelless(page: Page, parse: Parse) -> PlacedBox | None:
    hit: Hit | None = sole(page, parse)
    return hit[0] if hit else None


def _plain(page: Page, ex: Extraction, name: str, label_re: str, pattern: str, mrz: Reading | None = None) -> None:
    """A value printed under its label that must match ``pattern`` in full."""
    label = find_label(page.frame, label_re)
    box = next((b for b in _below(page, label) if re.fullmatch(pattern, squeeze(b.text))), None)
    ex.anchor(name, box)
    ex.put(name, reading(box, squeeze(box.text)) if box else None, mrz)


def _office(page: Page, ex: Extraction) -> None:
    """Issuing authority and place: under their labels, else the one authority-shaped box (``公安部
    出入境管理局``) and the short place name on its line, to its right."""
    _plain(page, ex, "issuing_authority", r"签发机关|簽發機關|ISSUINGAUTH", r"[\u4e00-\u9fff]{4,}")
    _plain(page, ex, "issue_place", r"签发地点|簽發地點|^PLACE$", r"[\u4e00-\u9fff]{2,4}")
    authority = ex.anchors.get("issuing_authority")
    if authority is None and (hit := sole(page, _authority, exclude=tuple(ex.anchors.values()))):
        authority = hit[0]
        ex.anchor("issuing_authority", authority)
        ex.put("issuing_authority", free_reading(hit))
    found = ex.fields.get("issuing_authority")
    if found and found.field.confidence and not _authority_plausible(str(found.field.value)):
        capped = replace(found.field, confidence=min(found.field.confidence, 0.7))
        ex.fields["issuing_authority"] = replace(found, field=capped, evidence=found.evidence + "+implausible")
    if "issue_place" not in ex.fields and authority is not None:
        place = next(
            (b for b in page.frame.right_of(authority) if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", squeeze(b.text))),
            None,
        )
        if place is not None:
            ex.anchor("issue_place", place)
            ex.put("issue_place", free_reading((place, squeeze(place.text))))


def _sex(page: Page, ex: Extraction, mrz: Reading | None) -> None:
    label = find_label(page.frame, r"性别|性別|^SEX$")
    box = next((b for b in _below(page, label) if sex_of(b.text)), None)
    free = box is None and (box := _labelless(page, sex_strict)) is not None
    ex.anchor("sex", box)
    ex.put("sex", reading(box, sex_of(box.text), label_free=free) if box else None, mrz)


def _number(page: Page, ex: Extraction, pattern: str, mrz: Reading | None) -> None:
    label = find_label(page.frame, r"证件号码|證件號碼|^NO\.?$")
    ex.anchor("number_label", label)
    nearby = _below(page, label, 2.0) + (page.frame.right_of(label) if label else [])
    box = next((b for b in nearby if re.fullmatch(pattern, squeeze(b.text).upper())), None)
    free = box is None and (box := _labelless(page, _matching(pattern))) is not None
    ex.anchor("document_number", box)
    ex.put("document_number", reading(box, squeeze(box.text).upper(), label_free=free) if box else None, mrz)


def _matching(pattern: str) -> Parse:
    return lambda t: squeeze(t).upper() if re.fullmatch(pattern, squeeze(t).upper()) else None


def _machine_code(ex: Extraction) -> None:
    read = ex.machine
    if read is None or not read.valid:
        return
    value = "\n".join(read.code.lines)
    ex.put("machine_code", None, Reading(value, value, read.score, checked=True, repairs=read.toggles))


def _common(page: Page, ex: Extraction, number_re: str) -> None:
    read = ex.machine
    _title(page, ex, mrz_reading(read, "document_code", checked_by="composite"))
    _number(page, ex, number_re, mrz_reading(read, "document_number"))
    _dated_fields(page, ex, mrz_reading(read, "birth_date"), mrz_reading(read, "expiry_date"))
    _machine_code(ex)


def eep_front(page: Page) -> Extraction:
    """Exit-Entry Permit front (``CS`` or ``CD``)."""
    ex = Extraction(machine=page.machine_code("eep"))
    _common(page, ex, r"C[A-Z0-9]\d{7}")
    _names(page, ex, None, None)
    _sex(page, ex, None)
    _office(page, ex)
    return ex


def mtp_front(page: Page) -> Extraction:
    """Mainland Travel Permit front with the three-line ``CR`` block."""
    ex = Extraction(machine=page.machine_code("mtp"))
    read = ex.machine
    _common(page, ex, r"[HM]\d{8}")
    fields = read.code.fields if read else {}
    full_en = f"{fields.get('surname')}, {fields.get('given_names')}" if fields.get("surname") else None
    _names(
        page,
        ex,
        mrz_reading(read, "name_zh", checked_by="line2"),
        mrz_reading(read, "surname", full_en, checked_by=""),
    )
    _sex(page, ex, mrz_reading(read, "sex", checked_by="line2"))
    _office(page, ex)
    times = mrz_reading(read, "issue_times", checked_by="line2")
    _plain(page, ex, "issue_times", r"次数|次數|^ISSUE$", r"\d{2}", times)
    return ex
