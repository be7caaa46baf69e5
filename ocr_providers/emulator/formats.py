"""Canonical fields -> each vendor's JSON, per action: the inverse of the providers' mappings.

The emulator answers with these. Tests feed them a specimen's ground truth; later the same formatters
will format what the offline engine reads. Dates and sexes are written the way each vendor writes them
(``1981.08.03``, ``01-01-2001``, ``19920922``, ``男``, ``女F``) so that a round trip exercises the
providers' normalisation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from ocr_providers.documents import DocumentType, Side

__all__ = [
    "FORMATTERS",
    "format_huawei_exit_entry_permit",
    "format_huawei_hk_id_card",
    "format_huawei_mainland_travel_permit",
    "format_huawei_passport",
    "format_tencent_hkid_card_ocr",
    "format_tencent_mainland_permit_ocr",
    "format_tencent_mlid_passport_ocr",
    "format_tencent_passport_ocr",
    "format_tencent_permit_ocr",
]

Fields = Mapping[str, Any]
TITLES = {
    "CS": "往来港澳通行证",
    "CD": "往来台湾通行证",
    "CR": "港澳居民来往内地通行证",
    "CT": "台湾居民来往大陆通行证",
}
TRIPS = {1: "一次", 2: "二次", None: "多次"}
CONFIDENCE = 0.9876  # what the emulator claims for every Huawei field


def _d(iso: Any, fmt: str) -> str:
    return date.fromisoformat(iso).strftime(fmt) if iso else ""


def _s(fields: Fields, name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value)


def _sex_zh(sex: Any) -> str:
    return {"M": "男", "F": "女"}.get(str(sex), "")


def _range(fields: Fields) -> str:
    issue, expiry = _d(fields.get("issue_date"), "%Y.%m.%d"), _d(fields.get("expiry_date"), "%Y.%m.%d")
    return f"{issue}-{expiry}" if issue or expiry else ""


def _lines(value: Any, count: int) -> list[str]:
    lines = str(value or "").split("\n")
    return (lines + [""] * count)[:count]


def format_tencent_permit_ocr(fields: Fields, **_: Any) -> dict[str, Any]:
    """PermitOCR (exit-entry permit front)."""
    return {
        "Name": _s(fields, "name_zh"),
        "EnglishName": _s(fields, "name_en"),
        "Number": _s(fields, "document_number"),
        "Sex": _sex_zh(fields.get("sex")),
        "ValidDate": _range(fields),
        "IssueAuthority": _s(fields, "issuing_authority"),
        "IssueAddress": _s(fields, "issue_place"),
        "Birthday": _d(fields.get("birth_date"), "%Y.%m.%d"),
        "PortraitImage": "",
        "Type": TITLES.get(_s(fields, "permit_type"), ""),
        "WarnCardInfos": [],
    }


def format_tencent_hkid_card_ocr(fields: Fields, **_: Any) -> dict[str, Any]:
    """HKIDCardOCR (HKID photo side), as on the Chinese-site docs: ``男M``, DD-MM-YYYY, ``(MM-YY)``."""
    permanent = fields.get("permanent")
    return {
        "CnName": _s(fields, "name_zh"),
        "EnName": _s(fields, "name_en"),
        "TelexCode": _s(fields, "telecode").replace(" ", ""),
        "Sex": {"M": "男M", "F": "女F"}.get(_s(fields, "sex"), ""),
        "Birthday": _d(fields.get("birth_date"), "%d-%m-%Y"),
        "Permanent": {True: 1, False: 0}.get(permanent, -1) if isinstance(permanent, bool) else -1,
        "IdNum": _s(fields, "document_number"),
        "Symbol": _s(fields, "symbols"),
        "FirstIssueDate": _d(fields.get("first_issue_date"), "(%m-%y)"),
        "CurrentIssueDate": _d(fields.get("issue_date"), "%d-%m-%y"),
        "FakeDetectResult": 2,
        "HeadImage": None,
        "SmallHeadImage": None,
        "WarningCode": [],
        "WarnCardInfos": [],
        "WindowEmbeddedText": "",
        "HKIDVersion": f"HKID-{fields['card_version']}" if fields.get("card_version") else "",
    }


def format_tencent_passport_ocr(fields: Fields, **_: Any) -> dict[str, Any]:
    """PassportOCR (legacy): YYYYMMDD dates, MRZ in CodeSet/CodeCrc, no WarnCardInfos."""
    line1, line2 = _lines(fields.get("mrz"), 2)
    return {
        "Country": _s(fields, "country_code"),
        "PassportNo": _s(fields, "document_number"),
        "Sex": _s(fields, "sex"),
        "Nationality": _s(fields, "nationality"),
        "BirthDate": _d(fields.get("birth_date"), "%Y%m%d"),
        "BirthPlace": _s(fields, "birth_place"),
        "IssueDate": _d(fields.get("issue_date"), "%Y%m%d"),
        "IssuePlace": _s(fields, "issue_place"),
        "ExpiryDate": _d(fields.get("expiry_date"), "%Y%m%d"),
        "Signature": "",
        "CodeSet": line1,
        "CodeCrc": line2,
        "Name": _s(fields, "name_zh"),
        "FamilyName": _s(fields, "surname_en"),
        "FirstName": _s(fields, "given_names_en"),
        "PortraitImageInfo": {"PortraitImage": "", "ImageCoordinates": None},
    }


def format_tencent_mainland_permit_ocr(
    fields: Fields, *, document_type: DocumentType | None = None, side: Side | None = None, **_: Any
) -> dict[str, Any]:
    """MainlandPermitOCR: either permit's front, or the Mainland Travel Permit's back."""
    if side is Side.BACK or ("hkid_number" in fields and "name_zh" not in fields):
        back = {"Type": TITLES["CR"], "Name": _s(fields, "hkid_name"), "IDNumber": _s(fields, "hkid_number")}
        infos = {**back, "HistoryNumber": ""}
        return {"Name": "", "Type": "", "MainlandTravelPermitBackInfos": infos, "WarnCardInfos": []}
    return {
        "Name": _s(fields, "name_zh"),
        "EnglishName": _s(fields, "name_en"),
        "Sex": _sex_zh(fields.get("sex")),
        "Birthday": _d(fields.get("birth_date"), "%Y.%m.%d"),
        "IssueAuthority": _s(fields, "issuing_authority"),
        "ValidDate": _range(fields),
        "Number": _s(fields, "document_number"),
        "IssueAddress": _s(fields, "issue_place"),
        "IssueNumber": _s(fields, "issue_times"),
        "Type": TITLES.get(_s(fields, "permit_type"), ""),
        "Profile": "",
        "Nationality": "中国",
        "MainlandTravelPermitBackInfos": None,
        "WarnCardInfos": [],
    }


def format_tencent_mlid_passport_ocr(fields: Fields, **_: Any) -> dict[str, Any]:
    """MLIDPassportOCR: MRZ-derived top level plus the visual zone in PassportRecognizeInfos."""
    line1, line2 = _lines(fields.get("mrz"), 2)
    dob, expiry = _d(fields.get("birth_date"), "%Y-%m-%d"), _d(fields.get("expiry_date"), "%Y-%m-%d")
    surname, given = _s(fields, "surname_en"), _s(fields, "given_names_en")
    visual = {
        "Type": "P", "IssuingCountry": _s(fields, "country_code"),
        "PassportID": _s(fields, "document_number"), "Surname": surname, "GivenName": given,
        "Name": _s(fields, "name_zh"),
        "Nationality": _s(fields, "nationality"), "DateOfBirth": dob, "Sex": _s(fields, "sex"),
        "DateOfIssuance": _d(fields.get("issue_date"), "%Y-%m-%d"), "DateOfExpiration": expiry,
        "Signature": "", "IssuePlace": _s(fields, "issue_place"), "IssuingAuthority": "",
        "BirthPlace": _s(fields, "birth_place"),
    }  # fmt: skip
    return {
        "ID": _s(fields, "document_number"), "Name": f"{surname} {given}".strip(), "DateOfBirth": dob,
        "Sex": _s(fields, "sex"), "DateOfExpiration": expiry, "IssuingCountry": _s(fields, "country_code"),
        "Nationality": _s(fields, "nationality"), "Surname": surname, "GivenName": given, "Type": "P",
        "CodeSet": line1, "CodeCrc": line2, "Image": "", "Warn": [], "AdvancedInfo": "1",
        "PassportRecognizeInfos": visual, "WarnCardInfos": [], "CardCount": 1, "IsComplete": True,
    }  # fmt: skip


def _confidences(result: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> dict[str, float]:
    return {k: CONFIDENCE for k, v in result.items() if isinstance(v, str) and v and k not in skip}


def _huawei_permit_front(fields: Fields) -> dict[str, Any]:
    return {
        "name": _s(fields, "name_zh"),
        "name_en": _s(fields, "name_en"),
        "sex": _sex_zh(fields.get("sex")),
        "birth_date": _d(fields.get("birth_date"), "%Y-%m-%d"),
        "number": _s(fields, "document_number"),
        "issuing_authority": _s(fields, "issuing_authority"),
        "issue_place": _s(fields, "issue_place"),
        "valid_period": _range(fields),
        "type": TITLES.get(_s(fields, "permit_type"), ""),
        "side": "front",
    }


def format_huawei_exit_entry_permit(fields: Fields, *, side: Side | None = None, **_: Any) -> dict[str, Any]:
    """exit-entry-permit: front fields and machine code, or endorsements (with nested confidences)."""
    if side is Side.BACK or "endorsements" in fields:
        result: dict[str, Any] = {"side": "back"}
        confidence: dict[str, Any] = {"side": CONFIDENCE}
        for item in fields.get("endorsements") or []:
            info = _huawei_endorsement(item)
            result[f"endorsement_info_{item['region']}"] = info
            confidence[f"endorsement_info_{item['region']}"] = _confidences(info)
        return {**result, "confidence": confidence}
    result = {**_huawei_permit_front(fields), "machine_code": _s(fields, "machine_code")}
    return {**result, "confidence": _confidences(result)}


def _huawei_endorsement(item: Mapping[str, Any]) -> dict[str, str]:
    until = _d(item.get("valid_until"), "%Y.%m.%d")
    return {
        "endorsement_type": str(item.get("type") or ""),
        "valid_round_trips": TRIPS.get(item.get("valid_round_trips"), str(item.get("valid_round_trips"))),
        "endorsement_valid_period": f"有效期至{until}" if until else "",
        "remark": str(item.get("remark") or ""),
        "issue_info": str(item.get("issue_info") or ""),
    }


def format_huawei_mainland_travel_permit(fields: Fields, *, side: Side | None = None, **_: Any) -> dict[str, Any]:
    """mainland-travel-permit: front fields, or the back's ID name and number; MRZ as three lines."""
    back = side is Side.BACK or ("hkid_number" in fields and "name_zh" not in fields)
    if back:
        result: dict[str, Any] = {
            "id_name": _s(fields, "hkid_name"), "id_number": _s(fields, "hkid_number"), "side": "back",
        }  # fmt: skip
    else:
        result = {**_huawei_permit_front(fields), "issue_times": _s(fields, "issue_times")}
    if fields.get("machine_code"):
        lines = _lines(fields.get("machine_code"), 3)
        result |= {"machine_code1": lines[0], "machine_code2": lines[1], "machine_code3": lines[2]}
    return {**result, "confidence": _confidences(result)}


def format_huawei_passport(fields: Fields, **_: Any) -> dict[str, Any]:
    """passport: English fields; the Chinese name in extra_info.local_language (CHN full-field mode)."""
    result = {
        "passport_type": "P",
        "country_code": _s(fields, "country_code"),
        "passport_number": _s(fields, "document_number"),
        "nationality": _s(fields, "nationality"),
        "surname": _s(fields, "surname_en"),
        "given_name": _s(fields, "given_names_en"),
        "sex": _s(fields, "sex"),
        "date_of_birth": _d(fields.get("birth_date"), "%Y-%m-%d"),
        "date_of_expiry": _d(fields.get("expiry_date"), "%Y-%m-%d"),
        "date_of_issue": _d(fields.get("issue_date"), "%Y-%m-%d"),
        "place_of_birth": _s(fields, "birth_place"),
        "place_of_issue": _s(fields, "issue_place"),
        "issuing_authority": "P.R.China",
    }
    local = {"name": _s(fields, "name_zh")}
    return {**result, "confidence": _confidences(result), "extra_info": {"local_language": local}}


def format_huawei_hk_id_card(fields: Fields, **_: Any) -> dict[str, Any]:
    """hk-id-card: as Huawei documents it (``M``/``F``, boolean ``permanent``)."""
    result: dict[str, Any] = {
        "name": _s(fields, "name_zh"),
        "name_en": _s(fields, "name_en"),
        "sex": _s(fields, "sex"),
        "birth_date": _d(fields.get("birth_date"), "%d-%m-%Y"),
        "number": _s(fields, "document_number"),
        "symbols": _s(fields, "symbols"),
        "name_telegraph_code": _s(fields, "telecode"),
        "initial_issue_date": _d(fields.get("first_issue_date"), "%m-%y"),
        "issue_date": _d(fields.get("issue_date"), "%d-%m-%y"),
    }
    if isinstance(fields.get("permanent"), bool):
        result["permanent"] = fields["permanent"]
    return {**result, "confidence": _confidences(result)}


Formatter = Callable[..., dict[str, Any]]
FORMATTERS: dict[tuple[str, str], Formatter] = {
    ("tencent", "PermitOCR"): format_tencent_permit_ocr,
    ("tencent", "HKIDCardOCR"): format_tencent_hkid_card_ocr,
    ("tencent", "PassportOCR"): format_tencent_passport_ocr,
    ("tencent", "MainlandPermitOCR"): format_tencent_mainland_permit_ocr,
    ("tencent", "MLIDPassportOCR"): format_tencent_mlid_passport_ocr,
    ("huawei", "exit-entry-permit"): format_huawei_exit_entry_permit,
    ("huawei", "mainland-travel-permit"): format_huawei_mainland_travel_permit,
    ("huawei", "passport"): format_huawei_passport,
    ("huawei", "hk-id-card"): format_huawei_hk_id_card,
}
