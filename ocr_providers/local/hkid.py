"""Hong Kong identity card front: no machine code, but three independent checks.

* the number's mod-11 check character;
* the telecodes, which decode (Unihan) to the Chinese name: they confirm a name read right, and
  correct one the recogniser got wrong, because digits read far more reliably than traditional
  characters;
* the title and the ``***`` symbol both say whether the holder is a permanent resident.

Formats: birth date ``DD-MM-YYYY``, issue date ``DD-MM-YY``, first issue ``(MM-YY)``.
"""

from __future__ import annotations

import re
from datetime import date

from ocr_providers.checkdigits import hkid_check_char
from ocr_providers.documents import DocumentType
from ocr_providers.local import telecode
from ocr_providers.local.confidence import Reading
from ocr_providers.local.crops import crop_quad
from ocr_providers.local.extraction import Extraction
from ocr_providers.local.fallback import sex_strict, sole
from ocr_providers.local.geometry import PlacedBox
from ocr_providers.local.page import Page
from ocr_providers.local.permits import name_en
from ocr_providers.local.portrait import project
from ocr_providers.local.viz import find_label, first_match, is_cjk, iso, reading, sex_of, squeeze

__all__ = ["front", "hkid_number"]

_NUMBER = re.compile(r"^([A-Z]{1,2})([0-9OIlSB]{6})[(\[（]?([0-9A])[)\]）]?$")
_TO_DIGIT = str.maketrans("OIlSB", "01158")


def hkid_number(text: str) -> tuple[str, bool] | None:
    """``Y511554(8)`` in canonical form and whether its check character is right."""
    match = _NUMBER.match(squeeze(text))
    if not match:
        return None
    body = match[1] + match[2].translate(_TO_DIGIT)
    return f"{body}({match[3]})", hkid_check_char(body) == match[3]


def _number(page: Page, ex: Extraction) -> None:
    for box in page.frame.boxes:
        parsed = hkid_number(box.text)
        if parsed:
            ex.anchor("document_number", box)
            ex.put("document_number", reading(box, parsed[0], checked=parsed[1]))
            return


def _names(page: Page, ex: Extraction) -> None:
    title = find_label(page.frame, r"身份證|身份证")
    ex.anchor("title", title)
    en_hit = next((b for b in page.frame.boxes if name_en(b.text) and b is not title), None)
    ex.anchor("name_en", en_hit)
    ex.put("name_en", reading(en_hit, name_en(en_hit.text)) if en_hit else None)
    codes = next(((b, g) for b in page.frame.boxes if (g := telecode.split_groups(b.text))), None)
    zh = next(
        (b for b in page.frame.boxes if is_cjk(b.text) and 2 <= len(squeeze(b.text)) <= 6 and b is not title),
        None,
    )
    ex.anchor("name_zh", zh)
    decoded = telecode.decode(codes[1]) if codes else None
    zh_text = squeeze(zh.text) if zh else None
    agree = decoded is not None and decoded == zh_text
    if codes:
        ex.anchor("telecode", codes[0])
        ex.put("telecode", reading(codes[0], " ".join(codes[1]), checked=agree))
    if zh is not None and (agree or decoded is None):
        ex.put("name_zh", reading(zh, zh_text, checked=agree))
    elif decoded is not None and codes is not None:
        # The printed name disagrees with its telecodes: digits are the more reliable read.
        ex.put("name_zh", Reading(decoded, codes[0].text, min(codes[0].score, 0.89)))


def _date(ex: Extraction, name: str, hit: tuple[PlacedBox, re.Match[str]] | None, year: int | None) -> None:
    if hit is None or year is None:
        return
    box, match = hit
    ex.anchor(name, box)
    day = int(match["d"]) if "d" in match.re.groupindex else 1
    value = iso(year, int(match["m"]), day)
    if value:
        ex.put(name, reading(box, value))


def _dates(page: Page, ex: Extraction) -> None:
    # The first-issue month and the issue date sit side by side and are often one box: search
    # inside boxes, with guards so that one date's digits never match as another's.
    boxes = page.frame.boxes
    birth = first_match(boxes, r"(?<![\d-])(?P<d>\d{2})-(?P<m>\d{2})-(?P<y>\d{4})(?![\d-])")
    _date(ex, "birth_date", birth, int(birth[1]["y"]) if birth else None)
    issue = first_match(boxes, r"(?<![\d(-])(?P<d>\d{2})-(?P<m>\d{2})-(?P<y>\d{2})(?![\d)-])")
    issue_year = 2000 + int(issue[1]["y"]) if issue else None
    _date(ex, "issue_date", issue, issue_year)
    first = first_match(boxes, r"[(（](?P<m>\d{2})-(?P<y>\d{2})[)）]")
    if first:
        yy = int(first[1]["y"])
        # A two-digit year: the first issue is never after this card's issue.
        limit = issue_year or date.today().year  # noqa: DTZ011 - a calendar year, no zone involved
        _date(ex, "first_issue_date", first, 2000 + yy if 2000 + yy <= limit else 1900 + yy)


def _sex_and_symbols(page: Page, ex: Extraction) -> tuple[PlacedBox | None, bool | None]:
    label = find_label(page.frame, r"性別|性别|^SEX$")
    nearby = page.frame.below(label) if label else []
    sex_box = next((b for b in nearby if sex_of(b.text)), None)
    free = sex_box is None and (hit := sole(page, sex_strict)) is not None
    if free and hit:  # the label is lost: the one ``男M`` / ``女F`` box on the card
        sex_box = hit[0]
    ex.anchor("sex", sex_box)
    ex.put("sex", reading(sex_box, sex_of(sex_box.text), label_free=free) if sex_box else None)
    candidates = [b for b in page.frame.boxes if re.fullmatch(r"\*{3}[A-Z]{1,3}", squeeze(b.text))]
    box = candidates[0] if candidates else _short_symbols(page, sex_box)
    if box is None:
        return None, None
    ex.anchor("symbols", box)
    return box, squeeze(box.text).startswith("***")


def _short_symbols(page: Page, sex_box: PlacedBox | None) -> PlacedBox | None:
    """A non-permanent card's symbols (``CZ``): a short capital string below the birth-date row."""
    birth = first_match(page.frame.boxes, r"^\d{2}-\d{2}-\d{4}$")
    if birth is None:
        return None
    below = page.frame.below(birth[0], max_lines=2.5)
    return next((b for b in below if re.fullmatch(r"[A-Z]{1,3}", squeeze(b.text)) and b is not sex_box), None)


def _permanent(page: Page, ex: Extraction, symbols: PlacedBox | None, starred: bool | None) -> None:
    if symbols is not None:
        ex.put("symbols", reading(symbols, squeeze(symbols.text)))
    title = find_label(page.frame, r"身份證|身份证|IDENTITYCARD")
    from_title = None if title is None else ("永久" in title.text or "PERMANENT" in title.text.upper())
    if from_title is not None and starred is not None:
        box = title if title is not None else symbols
        ex.put(
            "permanent",
            Reading(
                from_title,
                title.text if title else "",
                box.score if box else 0.0,
                checked=from_title == starred,
            ),
        )
    elif from_title is not None and title is not None:
        ex.put("permanent", reading(title, from_title))


# Where the card prints its version year (layout pixels, ``portrait.LAYOUTS``), with a margin.
_VERSION_RECT = (26, 580, 120, 618)
_SEX_RECT = (322, 306, 424, 362)  # the ``男 M`` value under its label
# The smart identity card (2018 design) has been issued since 26 November 2018; before, the 2003 one.
SMART_CARD_FROM = "2018-11-26"


def _version_by_date(ex: Extraction) -> str | None:
    issue = ex.fields.get("issue_date")
    if issue is None:
        return None
    return "2018" if str(issue.field.value) >= SMART_CARD_FROM else "2003"


def _version(page: Page, ex: Extraction) -> None:
    """The design year printed small at the bottom, confirmed by the issue date's design era."""
    by_date = _version_by_date(ex)
    hit = first_match(page.frame.boxes, r"^(2003|2018)$")
    if hit:
        ex.anchor("card_version", hit[0])
        ex.put("card_version", reading(hit[0], hit[1][1], checked=hit[1][1] == by_date))
        return
    read = _reread_version(page, ex)
    if read is not None:
        confirmed = read[0] == by_date
        ex.put("card_version", Reading(read[0], read[0], read[1], checked=confirmed, label_free=True))
    elif by_date is not None:
        # The year is illegible (it is the smallest print): the issue date's era, never confidently.
        issue = ex.fields["issue_date"]
        ex.put("card_version", Reading(by_date, str(issue.field.raw), 0.8, label_free=True))


def _reread_version(page: Page, ex: Extraction) -> tuple[str, float] | None:
    """Blur erases the small year first: re-read it where the layout says it is."""
    read = _reread_at(page, ex, _VERSION_RECT)
    return read if read and re.fullmatch(r"2003|2018", read[0]) else None


def _reread_sex(page: Page, ex: Extraction) -> None:
    """Glare or skew can hide ``女F`` from the detector: read it where the layout, registered on
    every other field (so this runs last), puts it."""
    if "sex" not in ex.fields and (again := _reread_at(page, ex, _SEX_RECT)) and (sex := sex_strict(again[0])):
        ex.put("sex", Reading(sex, again[0], again[1], label_free=True))


def _reread_at(page: Page, ex: Extraction, rect: tuple[int, int, int, int]) -> tuple[str, float] | None:
    """Recognise the layout rectangle ``rect``, registered on the fields already found."""
    quad = project(DocumentType.HK_ID_CARD, ex, rect)
    if quad is None:
        return None
    page.rereads += 1
    text, score = page.engine.line(crop_quad(page.image, quad, 0.0, 0.0))
    return squeeze(text), score


def front(page: Page) -> Extraction:
    """HKID front (the photo side)."""
    ex = Extraction()
    _number(page, ex)
    _names(page, ex)
    _dates(page, ex)
    symbols, starred = _sex_and_symbols(page, ex)
    _permanent(page, ex, symbols, starred)
    _version(page, ex)
    _reread_sex(page, ex)
    return ex
