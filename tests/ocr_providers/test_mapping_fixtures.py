"""Vendor payloads shaped like the examples in the vendors' docs (tests/fixtures/ocr, synthetic values)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr_providers.documents import DocumentType, Side
from ocr_providers.huawei import errors as hw_errors
from ocr_providers.huawei.mapping import MAPPERS as HW
from ocr_providers.normalise import parse_date, parse_sex, split_validity, strip_images
from ocr_providers.tencent import errors as tc_errors
from ocr_providers.tencent.mapping import MAPPERS as TC

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocr"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def values(extraction) -> dict:
    return {k: f.value for k, f in extraction.fields.items()}


def test_tencent_permit_ocr():
    out = TC["PermitOCR"](load("tencent_permit_ocr_ok.json")["Response"], None)
    assert (out.document_type, out.side) == (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT)
    assert values(out) == {
        "name_zh": "李明", "name_en": "LIMING", "sex": "M", "birth_date": "1981-08-03",
        "document_number": "C00000000", "issuing_authority": "公安部出入境管理局", "issue_place": "广东",
        "permit_type": "CS", "issue_date": "2018-10-09", "expiry_date": "2028-10-08",
    }  # fmt: skip
    assert out.fields["expiry_date"].raw == "2018.10.09-2028.10.08"
    assert out.warnings == ["photocopy", "blur"]
    assert out.portraits[0].content_type == "image/jpeg"


def test_tencent_hkid_card_ocr_international_site():
    out = TC["HKIDCardOCR"](load("tencent_hkid_card_ocr_ok.json")["Response"], None)
    assert values(out) == {
        "name_zh": "申能", "name_en": "SAN, Nan", "telecode": "3000 0000 0000", "sex": "F",
        "birth_date": "2001-01-01", "symbols": "***AZ", "first_issue_date": "1999-09-01",
        "issue_date": "2010-09-23", "document_number": "C000000(E)", "permanent": True,
        "card_version": "2018",
    }  # fmt: skip
    assert out.fields["sex"].raw == "女F"
    assert out.warnings == ["tampered", "screen_capture"]  # FakeDetectResult 1, then -9103/-9104
    assert [p.content_type for p in out.portraits] == ["image/jpeg", "image/png"]


def test_tencent_passport_ocr_with_portrait_box():
    out = TC["PassportOCR"](load("tencent_passport_ocr_ok.json")["Response"], None)
    v = values(out)
    assert (v["birth_date"], v["issue_date"], v["expiry_date"]) == ("1992-09-22", "2010-08-20", "2020-08-19")
    assert v["mrz"].split("\n")[1].startswith("EQ4024254")
    assert out.fields["mrz"].source == "machine_code"
    assert out.portraits[0].corners == ((30, 80), (230, 80), (230, 340), (30, 340))
    assert out.warnings == ["not_offered"]  # PassportOCR has no WarnCardInfos


def test_tencent_mainland_permit_front_and_back():
    front = TC["MainlandPermitOCR"](load("tencent_mainland_permit_ocr_front.json")["Response"], Side.FRONT)
    assert (front.document_type, front.side) == (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.FRONT)
    assert values(front)["name_en"] == "CHEN, XIAOMING"
    assert values(front)["issue_times"] == "02"
    assert values(front)["permit_type"] == "CR"
    back = TC["MainlandPermitOCR"](load("tencent_mainland_permit_ocr_back.json")["Response"], Side.BACK)
    assert (back.document_type, back.side) == (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK)
    assert values(back) == {"hkid_name": "陳小明", "hkid_number": "A123456(3)"}


def test_tencent_mlid_passport_prefers_the_visual_zone():
    out = TC["MLIDPassportOCR"](load("tencent_mlid_passport_ocr_ok.json")["Response"], None)
    v = values(out)
    assert (v["name_zh"], v["sex"], v["birth_date"], v["issue_date"]) == (
        "张三",
        "M",
        "1990-01-01",
        "2020-01-02",
    )
    assert out.fields["document_number"].source == "vendor"
    assert out.warnings == ["not_offered"]  # -9109: warning capability not enabled


def test_huawei_exit_entry_permit_front_with_confidences_and_location():
    out = HW["exit-entry-permit"](load("huawei_exit_entry_permit_front.json")["result"])
    assert values(out)["name_en"] == "LI, MING"
    assert values(out)["machine_code"] == "CSC000000000<2810083<8108035<6"
    assert out.fields["name_zh"].confidence == pytest.approx(0.9911)
    assert out.fields["expiry_date"].value == "2028-10-08"
    assert out.portraits[0].corners == ((35, 110), (210, 110), (210, 330), (35, 330))
    assert out.warnings == ["not_offered"]


def test_huawei_exit_entry_permit_back_endorsements():
    out = HW["exit-entry-permit"](load("huawei_exit_entry_permit_back.json")["result"])
    assert out.side is Side.BACK
    assert out.fields["endorsements"].value == [
        {"region": "hk", "type": "个人旅游", "valid_round_trips": 2, "valid_until": "2025-03-31",
         "remark": "逗留7天", "issue_info": "广东深圳 2025.01.01"},
        {"region": "mo", "type": "团队旅游", "valid_round_trips": 1, "valid_until": "2025-06-30",
         "remark": "", "issue_info": ""},
    ]  # fmt: skip
    assert out.fields["endorsements"].confidence == 0.0  # the lowest sub-field confidence


def test_huawei_mainland_travel_permit_three_machine_code_lines():
    out = HW["mainland-travel-permit"](load("huawei_mainland_travel_permit_front.json")["result"])
    assert values(out)["machine_code"].count("\n") == 2
    assert out.fields["machine_code"].confidence == pytest.approx(0.88)
    assert values(out)["issue_date"] == "2020-01-01"


def test_huawei_passport_local_name_from_extra_info():
    out = HW["passport"](load("huawei_passport_ok.json")["result"])
    v = values(out)
    assert (v["name_zh"], v["surname_en"], v["sex"], v["issue_date"]) == ("张三", "ZHANG", "F", "2020-01-02")
    assert not out.portraits


def test_huawei_hk_id_card():
    out = HW["hk-id-card"](load("huawei_hk_id_card_ok.json")["result"])
    v = values(out)
    assert (v["first_issue_date"], v["issue_date"], v["permanent"]) == ("1999-09-01", "2020-01-15", True)
    assert v["name_en"] == "CHAN, Tai Man"


def test_raw_responses_lose_their_images():
    stripped = strip_images(load("tencent_hkid_card_ocr_ok.json"))
    assert stripped["Response"]["HeadImage"].startswith("<base64 stripped")
    assert stripped["Response"]["CnName"] == "申能"


def test_error_fixtures_are_classified():
    body = load("tencent_error_signature_failure.json")["Response"]
    error = tc_errors.classify(body["Error"]["Code"], body["Error"]["Message"], body["RequestId"])
    assert (error.kind, error.code, error.request_id) == ("configuration", "bad_signature", body["RequestId"])
    throttled = hw_errors.classify(429, (FIXTURES / "huawei_error_apig_0308.json").read_bytes())
    assert (throttled.kind, throttled.vendor_code, throttled.request_id) == (
        "retryable", "APIG.0308", "fd6530a01c09807640189e65e837b8ad",
    )  # fmt: skip
    iam = hw_errors.classify(401, (FIXTURES / "huawei_error_iam_401.json").read_bytes())
    assert (iam.kind, iam.vendor_code) == ("configuration", "401")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [("1981.08.03", "1981-08-03"), ("19920922", "1992-09-22"), ("01-01-2001", "2001-01-01"),
     ("(09-99)", "1999-09-01"), ("23-09-10", "2010-09-23"), ("01 JAN 1990", "1990-01-01"),
     ("2018年10月9日", "2018-10-09"), ("长期", None), ("", None)],
)  # fmt: skip
def test_parse_date(raw, iso):
    assert parse_date(raw) == iso


def test_sex_and_validity_spellings():
    assert [parse_sex(s) for s in ("男", "女F", "Male", "FEMALE", "M", "男/M", "?")] == [
        "M",
        "F",
        "M",
        "F",
        "M",
        "M",
        None,
    ]
    assert split_validity("2018-10-09至2028-10-08") == ("2018-10-09", "2028-10-08")
    assert split_validity("2020.01.01-长期") == ("2020.01.01", "")
