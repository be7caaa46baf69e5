"""Label-free lookups and the small repairs that go with them (no engine: boxes are made up)."""

from __future__ import annotations

import numpy as np

from ocr_providers.local.confidence import CONFIDENT, fuse
from ocr_providers.local.engine import Box, _squarish
from ocr_providers.local.extraction import Extraction
from ocr_providers.local.fallback import above, free_reading, ranked, sex_strict, sole
from ocr_providers.local.geometry import page_frame
from ocr_providers.local.hkid import _version_by_date
from ocr_providers.local.page import Page
from ocr_providers.local.passport import _birth_or_issue_place, passport_date
from ocr_providers.local.permits import name_en


def _page(*placed: tuple[str, float, float]) -> Page:
    """A page of boxes ``(text, left, top)``, each 30 px tall and 8 px per character wide."""
    boxes = [
        Box(t, 0.99, ((x, y), (x + 8 * len(t) + 20, y), (x + 8 * len(t) + 20, y + 30), (x, y + 30)))
        for t, x, y in placed
    ]
    return Page(np.zeros((10, 10, 3), np.uint8), engine=None, frame=page_frame(boxes))  # type: ignore[arg-type]


def test_sole_answers_only_when_one_box_parses():
    page = _page(("性别/Sex", 0, 0), ("男/M", 0, 40), ("中国/CHINESE", 300, 40))
    assert sole(page, sex_strict)[1] == "M"
    twice = _page(("男/M", 0, 40), ("女/F", 0, 200))
    assert sole(twice, sex_strict) is None


def test_ranked_needs_exactly_the_expected_number_of_look_alikes():
    dates = [("13 6月/JUN 1994", 0, 100), ("0211月/NOV2021", 0, 200), ("0111月/NOV2031", 0, 300)]
    page = _page(*dates)
    assert ranked(page, passport_date, 1, 3)[1] == "2021-11-02"
    assert ranked(_page(*dates[:2]), passport_date, 1, 3) is None


def test_above_finds_the_chinese_name_over_the_latin_one():
    page = _page(("夏瑞秀", 300, 150), ("XIA, RUIXIU", 300, 190), ("北京", 700, 150))
    latin = next(b for b in page.frame.boxes if b.text.startswith("XIA"))
    hit = above(page, latin, lambda t: t if t.isalpha() and not t.isascii() else None)
    assert hit is not None
    assert hit[1] == "夏瑞秀"


def test_label_free_values_are_never_confident_alone():
    box = _page(("男/M", 0, 0)).frame.boxes[0]
    fused = fuse(free_reading((box, "M")), None)
    assert fused is not None
    assert fused.field.confidence < CONFIDENT


def test_sex_needs_both_halves_agreeing():
    assert sex_strict("女F") == "F"
    assert sex_strict("男/F") is None
    assert sex_strict("M") is None


def test_repairs_of_blurred_values():
    assert passport_date("2610月/0CT2028") == "2028-10-26"  # the letter O read as a zero
    assert name_en("MAK. CHI KIT") == "MAK, CHI KIT"
    assert _birth_or_issue_place("签发地点/Place of") is None
    assert _birth_or_issue_place("陕西/SHAANXI") == "陕西"


def test_card_version_from_the_issue_date_era():
    ex = Extraction()
    assert _version_by_date(ex) is None
    box = _page(("01-07-19", 0, 0)).frame.boxes[0]
    ex.put("issue_date", free_reading((box, "2019-07-01")))
    assert _version_by_date(ex) == "2018"
    ex.put("issue_date", free_reading((box, "2018-11-25")))
    assert _version_by_date(ex) == "2003"


def test_strips_are_padded_before_detection():
    strip = np.zeros((64, 320, 3), np.uint8)
    padded = _squarish(strip)
    assert padded.shape[:2] == (160, 320)
    assert (padded[64:] == 255).all()
    assert _squarish(np.zeros((630, 1000, 3), np.uint8)).shape[:2] == (630, 1000)
