"""Huawei ``result`` objects -> canonical fields (vendors.md B.9), with per-field confidences.

Huawei offers no photocopy/screen/tamper warnings on these endpoints, so every result carries
``not_offered``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ocr_providers.documents import ENDORSEMENT_KEYS, DocumentType, Side, Warning
from ocr_providers.normalise import (
    Extraction,
    clean,
    confidence,
    corners_from_points,
    decode_portrait,
    hkid_number,
    name_en,
    parse_date,
    parse_sex,
    permit_type,
    round_trips,
    split_validity,
    telecode,
)

__all__ = ["MAPPERS"]

Result = Mapping[str, Any]


class _Reader:
    """Reads ``result[key]`` together with ``result["confidence"][key]``."""

    def __init__(self, result: Result, out: Extraction) -> None:
        self.result = result
        self.out = out
        conf = result.get("confidence")
        self.conf: Mapping[str, Any] = conf if isinstance(conf, Mapping) else {}

    def c(self, key: str) -> float | None:
        return confidence(self.conf.get(key))

    def text(self, name: str, key: str) -> None:
        self.out.put_text(name, self.result.get(key), self.c(key))

    def date(self, name: str, key: str) -> None:
        self.out.put_date(name, self.result.get(key), self.c(key))

    def value(self, name: str, key: str, fn: Callable[[Any], Any]) -> None:
        raw = self.result.get(key)
        self.out.put(name, fn(raw), raw, self.c(key))

    def validity(self, key: str = "valid_period") -> None:
        raw = clean(self.result.get(key))
        issue, expiry = split_validity(raw)
        self.out.put_date("issue_date", issue or None, self.c(key), shown=raw)
        self.out.put_date("expiry_date", expiry or None, self.c(key), shown=raw)

    def portrait(self) -> None:
        corners = corners_from_points(self.result.get("portrait_location"))
        portrait = decode_portrait(self.result.get("portrait_image"), corners)
        if portrait:
            self.out.portraits.append(portrait)


def _side(result: Result, default: Side = Side.FRONT) -> Side:
    return Side.BACK if clean(result.get("side")).lower() == "back" else default


def _front_common(r: _Reader) -> None:
    r.text("name_zh", "name")
    r.value("name_en", "name_en", name_en)
    r.value("sex", "sex", parse_sex)
    r.date("birth_date", "birth_date")
    r.text("document_number", "number")
    r.text("issuing_authority", "issuing_authority")
    r.text("issue_place", "issue_place")
    r.value("permit_type", "type", permit_type)
    r.validity()


def map_exit_entry_permit(result: Result) -> Extraction:
    """exit-entry-permit: front fields and machine code, or the HK/Macao/Taiwan endorsements on the back."""
    side = _side(result, Side.BACK if _endorsements(result) and not result.get("name") else Side.FRONT)
    out = Extraction(DocumentType.EXIT_ENTRY_PERMIT, side)
    r = _Reader(result, out)
    if side is Side.FRONT:
        _front_common(r)
        r.text("machine_code", "machine_code")
        r.portrait()
    else:
        endorsements = _endorsements(result)
        out.put("endorsements", endorsements, "", _endorsement_confidence(r))
    out.warn(Warning.NOT_OFFERED)
    return out


_REGIONS = (("hk", "endorsement_info_hk"), ("mo", "endorsement_info_mo"), ("tw", "endorsement_info_tw"))


def _endorsements(result: Result) -> list[dict[str, Any]]:
    found = []
    for region, key in _REGIONS:
        info = result.get(key)
        if isinstance(info, Mapping) and any(clean(v) for v in info.values()):
            found.append(_endorsement(region, info))
    return found


def _endorsement(region: str, info: Mapping[str, Any]) -> dict[str, Any]:
    period = clean(info.get("endorsement_valid_period"))
    tokens = split_validity(period)
    until = tokens[1] or tokens[0]  # "valid until" is the end of a range, or the only date printed
    values = {
        "region": region,
        "type": clean(info.get("endorsement_type")),
        "valid_round_trips": round_trips(info.get("valid_round_trips")),
        "valid_until": parse_date(until) if until else None,
        "remark": clean(info.get("remark")),
        "issue_info": clean(info.get("issue_info")),
    }
    return {key: values[key] for key in ENDORSEMENT_KEYS}


def _endorsement_confidence(r: _Reader) -> float | None:
    # Each endorsement's confidence is an object of per-sub-field floats; the field gets the lowest.
    scores = []
    for _, key in _REGIONS:
        sub = r.conf.get(key)
        if isinstance(sub, Mapping):
            scores += [c for c in (confidence(v) for v in sub.values()) if c is not None]
    return min(scores) if scores else None


def map_mainland_travel_permit(result: Result) -> Extraction:
    """mainland-travel-permit: front fields, or the back's HK/Macao ID name and number and the MRZ."""
    side = _side(result, Side.BACK if result.get("id_number") and not result.get("name") else Side.FRONT)
    out = Extraction(DocumentType.MAINLAND_TRAVEL_PERMIT, side)
    r = _Reader(result, out)
    if side is Side.FRONT:
        _front_common(r)
        r.text("issue_times", "issue_times")
        r.portrait()
    else:
        r.text("hkid_name", "id_name")
        r.value("hkid_number", "id_number", _hkid_or_text)
    _machine_code(r)
    out.warn(Warning.NOT_OFFERED)
    return out


def _hkid_or_text(raw: Any) -> str:
    value = hkid_number(raw)
    return value if "(" in value else clean(raw)


def _machine_code(r: _Reader) -> None:
    keys = ("machine_code1", "machine_code2", "machine_code3")
    lines = [clean(r.result.get(k)) for k in keys if clean(r.result.get(k))]
    if not lines:
        return
    scores = [c for c in (r.c(k) for k in keys) if c is not None]
    r.out.put("machine_code", "\n".join(lines), "\n".join(lines), min(scores) if scores else None, "machine_code")


def map_passport(result: Result) -> Extraction:
    """passport: English fields; the Chinese name and places come from ``extra_info`` (CHN passports)."""
    out = Extraction(DocumentType.CN_PASSPORT, Side.FRONT)
    r = _Reader(result, out)
    r.text("surname_en", "surname")
    r.text("given_names_en", "given_name")
    r.value("sex", "sex", parse_sex)
    r.date("birth_date", "date_of_birth")
    r.text("birth_place", "place_of_birth")
    r.text("nationality", "nationality")
    r.text("country_code", "country_code")
    r.text("document_number", "passport_number")
    r.date("issue_date", "date_of_issue")
    r.text("issue_place", "place_of_issue")
    r.date("expiry_date", "date_of_expiry")
    out.put_text("name_zh", _local_name(result.get("extra_info")))
    out.warn(Warning.NOT_OFFERED)
    return out


def _local_name(extra: Any) -> str:
    # extra_info holds local-language fields for CHN passports, as {"local_language": {...}}.
    local = extra.get("local_language", extra) if isinstance(extra, Mapping) else {}
    if not isinstance(local, Mapping):
        return ""
    if clean(local.get("name")):
        return clean(local.get("name"))
    return clean(local.get("surname")) + clean(local.get("given_name"))


def map_hk_id_card(result: Result) -> Extraction:
    """hk-id-card: the photo side of the HKID, with the larger portrait and its location."""
    out = Extraction(DocumentType.HK_ID_CARD, Side.FRONT)
    r = _Reader(result, out)
    r.text("name_zh", "name")
    r.value("name_en", "name_en", name_en)
    r.value("telecode", "name_telegraph_code", telecode)
    r.value("sex", "sex", parse_sex)
    r.date("birth_date", "birth_date")
    r.text("symbols", "symbols")
    r.date("first_issue_date", "initial_issue_date")
    r.date("issue_date", "issue_date")
    r.value("document_number", "number", hkid_number)
    permanent = result.get("permanent")
    out.put("permanent", permanent if isinstance(permanent, bool) else None, permanent, r.c("permanent"))
    r.portrait()
    out.warn(Warning.NOT_OFFERED)
    return out


MAPPERS: dict[str, Callable[[Result], Extraction]] = {
    "exit-entry-permit": map_exit_entry_permit,
    "mainland-travel-permit": map_mainland_travel_permit,
    "passport": map_passport,
    "hk-id-card": map_hk_id_card,
}
