"""Ground truth per document type and side: canonical values plus how each one is printed.

``build(document_type, rng)`` returns ``{side: SideTruth}``. ``truth`` uses the canonical field names
of ``ocr_providers.documents.FIELDS`` with ISO dates; ``printed`` is a flat map from *printed field*
keys (the layout's keys) to the exact text on the image. Printed keys equal canonical names except
where one printed item carries several values (``validity`` holds issue and expiry dates; the
passport's ``surname``/``given_names`` hold the Chinese and Latin names) or a list is flattened
(``endorsements.0.type``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kyc.specimens import identities as ids
from kyc.specimens import unihan
from kyc.specimens.names import CITIES, PROVINCES
from ocr_providers.documents import DocumentType, Side
from ocr_providers.machine_codes import PERMIT_CODES, build_eep, build_mtp, build_td3, gbk_letters

ISSUING_AUTHORITY = "公安部出入境管理局"
SEX_ZH = {"M": "男", "F": "女"}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
ROUND_TRIPS = {1: "一次", 2: "二次", None: "多次"}
# Endorsement types as printed (canonical value = printed Chinese), with the days a stay may last.
ENDORSEMENT_TYPES = {"个人旅游": 7, "团队旅游": 7, "探亲": 14, "商务": 7, "其他": 14}
# Card titles: the printed form of permit_type (the canonical value is the machine-code document code).
TITLES = {code: ("" if code == "CR" else "中华人民共和国") + name for code, name in PERMIT_CODES.items()}
REGIONS = {"hk": "香港 HK", "mo": "澳门 MO", "tw": "台湾 TW"}


@dataclass(frozen=True)
class SideTruth:
    """Canonical values and printed text of one side."""

    truth: dict[str, Any]
    printed: dict[str, str]


def dotted(day: date) -> str:
    return day.strftime("%Y.%m.%d")


def passport_date(day: date) -> str:
    """``01 1月/JAN 1990``: the bilingual date of the passport's data page."""
    return f"{day.day:02d} {day.month}月/{MONTHS[day.month - 1]} {day.year}"


def _place(rng: random.Random) -> tuple[str, str]:
    return rng.choice(sorted(PROVINCES.items()))


def hk_id_card(rng: random.Random) -> dict[Side, SideTruth]:
    """HKID front. ``first_issue_date`` is month-precise and stored as the first of that month."""
    person = ids.hk_person(rng)
    version = "2003" if rng.random() < 0.15 else "2018"
    since = date(2008, 1, 1) if version == "2003" else date(2018, 11, 26)
    until = date(2018, 11, 25) if version == "2003" else ids.REFERENCE_DATE
    issue = ids.random_date(rng, max(since, ids.add_years(person.birth_date, 18)), until)
    first = ids.random_date(rng, ids.add_years(person.birth_date, 11) + timedelta(days=31), issue)
    first = first.replace(day=1)
    permanent = rng.random() < 0.9
    born = rng.choice("ZZZZXXXOW")
    symbols = f"***A{born}" if permanent else rng.choice("CU") + born
    telecode = " ".join(unihan.telecode(c) for c in person.name_zh)
    number = ids.hkid_number(rng)
    truth = {
        "name_zh": person.name_zh, "name_en": person.name_en, "telecode": telecode, "sex": person.sex,
        "birth_date": person.birth_date.isoformat(), "symbols": symbols,
        "first_issue_date": first.isoformat(), "issue_date": issue.isoformat(),
        "document_number": number, "permanent": "***" in symbols, "card_version": version,
    }  # fmt: skip
    printed = {
        "name_zh": person.name_zh, "name_en": person.name_en, "telecode": telecode,
        "sex": f"{SEX_ZH[person.sex]} {person.sex}", "birth_date": person.birth_date.strftime("%d-%m-%Y"),
        "symbols": symbols, "first_issue_date": first.strftime("(%m-%y)"),
        "issue_date": issue.strftime("%d-%m-%y"), "document_number": number, "card_version": version,
    }  # fmt: skip
    return {Side.FRONT: SideTruth(truth, printed)}


def cn_passport(rng: random.Random) -> dict[Side, SideTruth]:
    """Passport data page; the MRZ optional field carries the GBK-letter name (see machine_codes)."""
    person = ids.mainland_person(rng)
    issue, expiry = ids.issue_and_expiry(rng, person.birth_date, since=date(2016, 1, 1), adult_age=16)
    birth_place = _place(rng)
    issue_place = birth_place if rng.random() < 0.7 else _place(rng)
    number = ids.passport_number(rng)
    mrz = build_td3(
        issuing_state="CHN", surname=person.surname_en, given_names=person.given_en,
        document_number=number, nationality="CHN", birth_date=person.birth_date, sex=person.sex,
        expiry_date=expiry, optional=gbk_letters(person.name_zh[:3]),
    )  # fmt: skip
    truth = {
        "name_zh": person.name_zh, "surname_en": person.surname_en, "given_names_en": person.given_en,
        "sex": person.sex, "birth_date": person.birth_date.isoformat(), "birth_place": birth_place[0],
        "nationality": "CHINESE", "country_code": "CHN", "document_number": number,
        "issue_date": issue.isoformat(), "issue_place": issue_place[0], "expiry_date": expiry.isoformat(),
        "mrz": "\n".join(mrz),
    }  # fmt: skip
    printed = {
        "type": "P", "country_code": "CHN", "document_number": number,
        "surname": f"{person.surname_zh}\n{person.surname_en}",
        "given_names": f"{person.given_zh}\n{person.given_en}",
        "sex": f"{SEX_ZH[person.sex]}/{person.sex}", "nationality": "中国/CHINESE",
        "birth_date": passport_date(person.birth_date), "birth_place": "/".join(birth_place),
        "issue_date": passport_date(issue), "issue_place": "/".join(issue_place),
        "expiry_date": passport_date(expiry), "mrz": truth["mrz"],
    }  # fmt: skip
    return {Side.FRONT: SideTruth(truth, printed)}


def _endorsement(rng: random.Random, region: str, issue: date, expiry: date, home: str) -> dict[str, Any]:
    kind = rng.choice(sorted(ENDORSEMENT_TYPES))
    start = ids.random_date(rng, max(issue, ids.REFERENCE_DATE - timedelta(days=300)), ids.REFERENCE_DATE)
    trips = rng.choice((1, 1, 2, None))
    valid_until = min(expiry, start + timedelta(days=365 if trips is None else 90) - timedelta(days=1))
    city = rng.choice(CITIES.get(home, (home,)))
    return {
        "region": region, "type": kind, "valid_round_trips": trips, "valid_until": valid_until.isoformat(),
        "remark": f"逗留{ENDORSEMENT_TYPES[kind]}天",
        "issue_info": f"{home}{city if city != home else ''} {dotted(start)}",
        "_printed_until": f"有效期至 {dotted(valid_until)}",
    }  # fmt: skip


def exit_entry_permit(rng: random.Random) -> dict[Side, SideTruth]:
    """EEP (CS, or CD for Taiwan): the 30-character line on the front, endorsements on the back."""
    person = ids.mainland_person(rng)
    code = "CD" if rng.random() < 0.15 else "CS"
    issue, expiry = ids.issue_and_expiry(rng, person.birth_date, since=date(2016, 1, 1), adult_age=16)
    place = _place(rng)[0]
    number = ids.eep_number(rng)
    line = build_eep(document_number=number, expiry_date=expiry, birth_date=person.birth_date, document_code=code)
    front = {
        "name_zh": person.name_zh, "name_en": person.name_en, "sex": person.sex,
        "birth_date": person.birth_date.isoformat(), "document_number": number,
        "issue_date": issue.isoformat(), "expiry_date": expiry.isoformat(),
        "issuing_authority": ISSUING_AUTHORITY, "issue_place": place, "machine_code": line,
        "permit_type": code,
    }  # fmt: skip
    printed = {
        "name_zh": person.name_zh, "name_en": person.name_en, "sex": f"{SEX_ZH[person.sex]}/{person.sex}",
        "birth_date": dotted(person.birth_date), "validity": f"{dotted(issue)}-{dotted(expiry)}",
        "issuing_authority": ISSUING_AUTHORITY, "issue_place": place, "document_number": number,
        "machine_code": line, "permit_type": TITLES[code],
    }  # fmt: skip
    regions = ["tw"] if code == "CD" else rng.choice((["hk"], ["mo"], ["hk", "mo"]))
    endorsements = [_endorsement(rng, r, issue, expiry, place) for r in regions]
    back_printed: dict[str, str] = {}
    for i, item in enumerate(endorsements):
        back_printed |= {
            f"endorsements.{i}.region": REGIONS[item["region"]], f"endorsements.{i}.type": item["type"],
            f"endorsements.{i}.valid_round_trips": ROUND_TRIPS[item["valid_round_trips"]],
            f"endorsements.{i}.valid_until": item.pop("_printed_until"),
            f"endorsements.{i}.remark": item["remark"], f"endorsements.{i}.issue_info": item["issue_info"],
        }  # fmt: skip
    return {
        Side.FRONT: SideTruth(front, printed),
        Side.BACK: SideTruth({"endorsements": endorsements}, back_printed),
    }


def mainland_travel_permit(rng: random.Random) -> dict[Side, SideTruth]:
    """MTP (Home Return Permit) of an HK resident: simplified name, HK romanisation in capitals."""
    person = ids.hk_person(rng)
    name_zh = unihan.simplified(person.name_zh)
    name_en = person.name_en.upper()
    issue, expiry = ids.issue_and_expiry(rng, person.birth_date, since=date(2014, 1, 1), adult_age=18)
    times = f"{rng.randint(1, max(1, min(9, ids.age_on(person.birth_date, issue) // 5))):02d}"
    number = ids.mtp_number(rng)
    block = "\n".join(
        build_mtp(
            document_number=number, expiry_date=expiry, birth_date=person.birth_date, name_zh=name_zh,
            sex=person.sex, issue_times=times, surname=person.surname_en, given_names=person.given_en,
        )
    )  # fmt: skip
    place = rng.choice(("广东", "广东", "北京", "上海"))
    front = {
        "name_zh": name_zh, "name_en": name_en, "sex": person.sex,
        "birth_date": person.birth_date.isoformat(), "document_number": number,
        "issue_date": issue.isoformat(), "expiry_date": expiry.isoformat(),
        "issuing_authority": ISSUING_AUTHORITY, "issue_place": place, "issue_times": times,
        "machine_code": block, "permit_type": "CR",
    }  # fmt: skip
    printed = {
        "name_zh": name_zh, "name_en": name_en, "sex": f"{SEX_ZH[person.sex]}/{person.sex}",
        "birth_date": dotted(person.birth_date), "validity": f"{dotted(issue)}-{dotted(expiry)}",
        "issuing_authority": ISSUING_AUTHORITY, "issue_place": place, "document_number": number,
        "issue_times": times, "machine_code": block, "permit_type": TITLES["CR"],
    }  # fmt: skip
    hkid = ids.hkid_number(rng)
    back = {"hkid_name": person.name_en, "hkid_number": hkid}
    return {Side.FRONT: SideTruth(front, printed), Side.BACK: SideTruth(back, dict(back))}


BUILDERS = {
    DocumentType.HK_ID_CARD: hk_id_card,
    DocumentType.CN_PASSPORT: cn_passport,
    DocumentType.EXIT_ENTRY_PERMIT: exit_entry_permit,
    DocumentType.MAINLAND_TRAVEL_PERMIT: mainland_travel_permit,
}


def build(document_type: DocumentType, rng: random.Random) -> dict[Side, SideTruth]:
    """Draw one identity and return the truth of every side of ``document_type``."""
    return BUILDERS[DocumentType(document_type)](rng)
