"""Pure units of the offline engine: telecodes, dates, confidence rules, type detection."""

from __future__ import annotations

from ocr_providers.documents import DocumentType, Side
from ocr_providers.local import telecode
from ocr_providers.local.confidence import CONFIDENT, Reading, fuse
from ocr_providers.local.detect import detect
from ocr_providers.local.engine import Box
from ocr_providers.local.geometry import page_frame
from ocr_providers.local.hkid import hkid_number
from ocr_providers.local.passport import passport_date


def _frame(*texts: str):
    return page_frame(
        Box(t, 0.99, ((0, 40 * i), (300, 40 * i), (300, 40 * i + 30), (0, 40 * i + 30))) for i, t in enumerate(texts)
    )


def test_telecodes_decode_through_unihan():
    assert telecode.decode(telecode.split_groups("711511292429")) == "陳大文"
    assert telecode.split_groups("7115 112") is None


def test_passport_date_survives_a_lost_space_and_checks_the_month():
    assert passport_date("13 6月/JUN 1994") == "1994-06-13"
    assert passport_date("1610月/OCT 2021") == "2021-10-16"
    assert passport_date("13 6月/JUL 1994") is None


def test_hkid_number_check_character():
    assert hkid_number("A123456(3)") == ("A123456(3)", True)
    assert hkid_number("A123456(4)") == ("A123456(4)", False)


def test_disagreeing_zones_are_never_confident():
    fused = fuse(Reading("E12345678", "E12345678", 0.99), Reading("E12345679", "x", 0.99, checked=True))
    assert fused is not None
    assert fused.conflict
    assert fused.field.confidence < 0.5


def test_repaired_machine_code_waits_for_the_visual_zone():
    alone = fuse(None, Reading("C08666617", "x", 0.99, checked=True, repairs=1))
    assert alone is not None
    assert alone.field.confidence < CONFIDENT
    agreed = fuse(Reading("C08666617", "C08666617", 0.95), Reading("C08666617", "x", 0.99, checked=True, repairs=1))
    assert agreed is not None
    assert agreed.field.confidence >= 0.99


def test_type_detection_from_titles_and_codes():
    assert detect(_frame("港澳居民来往内地通行证", "姓名Name"))[:2] == (
        DocumentType.MAINLAND_TRAVEL_PERMIT,
        Side.FRONT,
    )
    assert detect(_frame("中华人民共和国往来港澳通行证"))[:2] == (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT)
    assert detect(_frame("签注ENDORSEMENTS", "香港HK"))[:2] == (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK)
    assert detect(_frame("香港身份证号码HKID No.", "A123456(3)"))[:2] == (
        DocumentType.MAINLAND_TRAVEL_PERMIT,
        Side.BACK,
    )
    assert detect(_frame("P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"))[0] == DocumentType.CN_PASSPORT
    assert detect(_frame("RECEIPT", "TOTAL 12.50")) is None


def test_non_permanent_hkid_is_not_taken_for_a_permit_back():
    found = detect(_frame("香港居民身份證", "HONG KONG IDENTITY CARD", "YIP, Kam Sze", "C038781(7)"))
    assert found is not None
    assert found[:2] == (DocumentType.HK_ID_CARD, Side.FRONT)


def test_permit_back_is_recognised_by_its_holder_heading_when_labels_are_lost():
    found = detect(_frame("持证人身份证件资料HOLDER'SIDENTITYCARD", "MAK, Chi Kit", "H032293(A)"))
    assert found is not None
    assert found[:2] == (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK)
