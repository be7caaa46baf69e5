"""Tencent action payloads -> canonical fields (vendors.md A.8).

Every output "may be null", so every field is optional. Tencent gives no per-field confidences for these
actions: ``confidence`` stays ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ocr_providers.documents import DocumentType, Side, Warning
from ocr_providers.normalise import (
    Extraction,
    clean,
    corners_from_box,
    decode_portrait,
    hkid_number,
    name_en,
    parse_sex,
    permit_type,
    split_validity,
    telecode,
)

__all__ = ["MAPPERS", "map_warn_card_infos"]

Payload = Mapping[str, Any]

# WarnCardInfos codes (international site; the Chinese site always returns []).
WARN_CODES: dict[int, str] = {
    -9101: Warning.COVERED,  # border incomplete or covered
    -9102: Warning.PHOTOCOPY,
    -9103: Warning.SCREEN_CAPTURE,  # recaptured photo of a screen or print
    -9104: Warning.TAMPERED,  # edited (PS)
    -9107: Warning.REFLECTION,
    -9108: Warning.BLUR,
    -9109: Warning.NOT_OFFERED,  # warning capability not enabled for this account
}


def map_warn_card_infos(payload: Payload, out: Extraction) -> None:
    """Normalised warnings; no ``WarnCardInfos`` key at all means the action offers no such checks."""
    codes = payload.get("WarnCardInfos")
    if codes is None:
        out.warn(Warning.NOT_OFFERED)
        return
    for code in codes or ():
        if isinstance(code, int) and code in WARN_CODES:
            out.warn(WARN_CODES[code])


def _validity(out: Extraction, raw: Any) -> None:
    # One printed range becomes two fields; both keep the whole range as read.
    issue, expiry = split_validity(clean(raw))
    out.put_date("issue_date", issue or None, shown=raw)
    out.put_date("expiry_date", expiry or None, shown=raw)


def _common_permit_front(payload: Payload, out: Extraction) -> None:
    out.put_text("name_zh", payload.get("Name"))
    out.put("name_en", name_en(payload.get("EnglishName")), payload.get("EnglishName"))
    out.put("sex", parse_sex(payload.get("Sex")), payload.get("Sex"))
    out.put_date("birth_date", payload.get("Birthday"))
    out.put_text("document_number", payload.get("Number"))
    out.put_text("issuing_authority", payload.get("IssueAuthority"))
    out.put_text("issue_place", payload.get("IssueAddress"))
    out.put("permit_type", permit_type(payload.get("Type")), payload.get("Type"))
    _validity(out, payload.get("ValidDate"))


def _add_portrait(out: Extraction, b64: Any, box: Any = None) -> None:
    portrait = decode_portrait(b64, corners_from_box(box))
    if portrait:
        out.portraits.append(portrait)


def map_permit_ocr(payload: Payload, side: Side | None) -> Extraction:
    """PermitOCR: the exit-entry permit card (front only)."""
    out = Extraction(DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT)
    _common_permit_front(payload, out)
    _add_portrait(out, payload.get("PortraitImage"))
    map_warn_card_infos(payload, out)
    return out


def map_hkid_card_ocr(payload: Payload, side: Side | None) -> Extraction:
    """HKIDCardOCR: the photo side of the HKID; large and (new card) small portraits."""
    out = Extraction(DocumentType.HK_ID_CARD, Side.FRONT)
    out.put_text("name_zh", payload.get("CnName"))
    out.put("name_en", name_en(payload.get("EnName")), payload.get("EnName"))
    out.put("telecode", telecode(payload.get("TelexCode")), payload.get("TelexCode"))
    out.put("sex", parse_sex(payload.get("Sex")), payload.get("Sex"))
    out.put_date("birth_date", payload.get("Birthday"))
    out.put_text("symbols", payload.get("Symbol"))
    out.put_date("first_issue_date", payload.get("FirstIssueDate"))
    out.put_date("issue_date", payload.get("CurrentIssueDate"))
    out.put("document_number", hkid_number(payload.get("IdNum")), payload.get("IdNum"))
    permanent = {1: True, 0: False}.get(payload.get("Permanent", -1))
    out.put("permanent", permanent, payload.get("Permanent"))
    version = clean(payload.get("HKIDVersion")).removeprefix("HKID-")
    out.put("card_version", version, payload.get("HKIDVersion"))
    _add_portrait(out, payload.get("HeadImage"))
    _add_portrait(out, payload.get("SmallHeadImage"))
    if payload.get("FakeDetectResult") == 1:  # 1 = fake, 2 = genuine, 0 = undeterminable
        out.warn(Warning.TAMPERED)
    map_warn_card_infos(payload, out)
    return out


def _mrz(*lines: Any) -> str:
    return "\n".join(clean(line) for line in lines if clean(line))


def map_passport_ocr(payload: Payload, side: Side | None) -> Extraction:
    """PassportOCR (legacy, mainland site): the Chinese passport data page."""
    out = Extraction(DocumentType.CN_PASSPORT, Side.FRONT)
    out.put_text("name_zh", payload.get("Name"))
    out.put_text("surname_en", payload.get("FamilyName"))
    out.put_text("given_names_en", payload.get("FirstName"))
    out.put("sex", parse_sex(payload.get("Sex")), payload.get("Sex"))
    out.put_date("birth_date", payload.get("BirthDate"))
    out.put_text("birth_place", payload.get("BirthPlace"))
    out.put_text("nationality", payload.get("Nationality"))
    out.put_text("country_code", payload.get("Country"))
    out.put_text("document_number", payload.get("PassportNo"))
    out.put_date("issue_date", payload.get("IssueDate"))
    out.put_text("issue_place", payload.get("IssuePlace"))
    out.put_date("expiry_date", payload.get("ExpiryDate"))
    out.put(
        "mrz",
        _mrz(payload.get("CodeSet"), payload.get("CodeCrc")),
        payload.get("CodeSet"),
        source="machine_code",
    )
    info = payload.get("PortraitImageInfo") or {}
    _add_portrait(out, info.get("PortraitImage"), info.get("ImageCoordinates"))
    map_warn_card_infos(payload, out)
    return out


def map_mainland_permit_ocr(payload: Payload, side: Side | None) -> Extraction:
    """MainlandPermitOCR: both permit kinds; ``Type`` says which one was read."""
    title = clean(payload.get("Type")) or clean((payload.get("MainlandTravelPermitBackInfos") or {}).get("Type"))
    is_eep = permit_type(title) in ("CS", "CD")
    doc = DocumentType.EXIT_ENTRY_PERMIT if is_eep else DocumentType.MAINLAND_TRAVEL_PERMIT
    back = payload.get("MainlandTravelPermitBackInfos")
    if back and not clean(payload.get("Name")):
        out = Extraction(DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK)
        out.put_text("hkid_name", back.get("Name"))
        out.put("hkid_number", _hkid_or_text(back.get("IDNumber")), back.get("IDNumber"))
    else:
        out = Extraction(doc, Side.FRONT)
        _common_permit_front(payload, out)
        if doc is DocumentType.MAINLAND_TRAVEL_PERMIT:
            out.put_text("issue_times", payload.get("IssueNumber"))
        _add_portrait(out, payload.get("Profile"))
    map_warn_card_infos(payload, out)
    return out


def _hkid_or_text(raw: Any) -> str:
    # The back of a Mainland Travel Permit carries an HK *or* Macao ID number; only HKIDs get brackets.
    value = hkid_number(raw)
    return value if "(" in value else clean(raw)


def map_mlid_passport_ocr(payload: Payload, side: Side | None) -> Extraction:
    """MLIDPassportOCR: visual zone (``PassportRecognizeInfos``) first, then the MRZ-parsed top level."""
    out = Extraction(DocumentType.CN_PASSPORT, Side.FRONT)
    vz = payload.get("PassportRecognizeInfos") or {}
    pairs = (
        ("surname_en", "Surname", "Surname"),
        ("given_names_en", "GivenName", "GivenName"),
        ("nationality", "Nationality", "Nationality"),
        ("country_code", "IssuingCountry", "IssuingCountry"),
        ("document_number", "PassportID", "ID"),
    )
    for name, vz_key, mrz_key in pairs:
        _put_vz_or_mrz(out, name, vz.get(vz_key), payload.get(mrz_key), text=True)
    _put_vz_or_mrz(out, "birth_date", vz.get("DateOfBirth"), payload.get("DateOfBirth"))
    _put_vz_or_mrz(out, "expiry_date", vz.get("DateOfExpiration"), payload.get("DateOfExpiration"))
    sex_raw = vz.get("Sex") or payload.get("Sex")
    out.put("sex", parse_sex(sex_raw), sex_raw)
    out.put_text("name_zh", vz.get("Name"))
    out.put_text("birth_place", vz.get("BirthPlace"))
    out.put_text("issue_place", vz.get("IssuePlace"))
    out.put_date("issue_date", vz.get("DateOfIssuance"))
    out.put(
        "mrz",
        _mrz(payload.get("CodeSet"), payload.get("CodeCrc")),
        payload.get("CodeSet"),
        source="machine_code",
    )
    _add_portrait(out, payload.get("Image"))
    map_warn_card_infos(payload, out)
    return out


def _put_vz_or_mrz(out: Extraction, name: str, vz_raw: Any, mrz_raw: Any, *, text: bool = False) -> None:
    raw, source = (vz_raw, "vendor") if clean(vz_raw) else (mrz_raw, "machine_code")
    if text:
        out.put_text(name, raw, source=source)
    else:
        out.put_date(name, raw, source=source)


MAPPERS: dict[str, Callable[[Payload, Side | None], Extraction]] = {
    "PermitOCR": map_permit_ocr,
    "HKIDCardOCR": map_hkid_card_ocr,
    "PassportOCR": map_passport_ocr,
    "MainlandPermitOCR": map_mainland_permit_ocr,
    "MLIDPassportOCR": map_mlid_passport_ocr,
}
