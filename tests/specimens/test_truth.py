"""Ground truth is complete, internally consistent and valid under the check-digit rules."""

import random
from datetime import date, timedelta

import pytest

from kyc.specimens import identities, truth, unihan
from kyc.specimens.names import all_characters
from ocr_providers.checkdigits import hkid_is_valid
from ocr_providers.documents import ENDORSEMENT_KEYS, FIELDS, SIDES, DocumentType, Side
from ocr_providers.machine_codes import parse_eep, parse_mtp, parse_td3

INDICES = range(25)


def _build(document_type, index):
    return truth.build(document_type, random.Random(f"7|{document_type}|{index}"))


def _d(value):
    return date.fromisoformat(value)


@pytest.mark.parametrize("document_type", list(DocumentType))
def test_every_side_has_exactly_the_canonical_fields(document_type):
    for index in INDICES:
        sides = _build(document_type, index)
        assert tuple(sides) == SIDES[document_type]
        for side, side_truth in sides.items():
            assert set(side_truth.truth) == set(FIELDS[(document_type, side)])


def _check_validity(t, adult_age):
    birth, issue, expiry = _d(t["birth_date"]), _d(t["issue_date"]), _d(t["expiry_date"])
    assert date(1950, 1, 1) <= birth <= date(2005, 12, 31)
    assert birth < issue <= identities.REFERENCE_DATE
    years = 10 if identities.age_on(birth, issue) >= adult_age else 5
    assert expiry == identities.add_years(issue, years) - timedelta(days=1)


def test_passport_mrz_validates_and_agrees_with_the_page():
    for index in INDICES:
        t = _build(DocumentType.CN_PASSPORT, index)[Side.FRONT].truth
        code = parse_td3(t["mrz"])
        assert code.valid, code.checks
        f = code.fields
        assert (f["surname"], f["given_names"]) == (t["surname_en"], t["given_names_en"])
        assert (f["document_number"], f["sex"]) == (t["document_number"], t["sex"])
        assert (f["birth_date"], f["expiry_date"]) == (t["birth_date"], t["expiry_date"])
        assert t["document_number"][0] == "E"
        assert len(t["document_number"]) == 9
        _check_validity(t, adult_age=16)


def test_eep_machine_code_validates_and_endorsements_are_well_formed():
    for index in INDICES:
        sides = _build(DocumentType.EXIT_ENTRY_PERMIT, index)
        t = sides[Side.FRONT].truth
        code = parse_eep(t["machine_code"])
        assert code.valid, code.checks
        assert code.fields["document_code"] == t["permit_type"]
        assert code.fields["document_number"] == t["document_number"]
        assert (code.fields["birth_date"], code.fields["expiry_date"]) == (t["birth_date"], t["expiry_date"])
        assert t["document_number"][0] == "C"
        assert t["document_number"][1] not in "IO"
        _check_validity(t, adult_age=16)
        for item in sides[Side.BACK].truth["endorsements"]:
            assert tuple(item) == ENDORSEMENT_KEYS
            assert item["region"] in (("tw",) if t["permit_type"] == "CD" else ("hk", "mo"))
            assert _d(item["valid_until"]) <= _d(t["expiry_date"])
            assert item["valid_round_trips"] in (1, 2, None)


def test_mtp_machine_code_validates_and_back_carries_a_valid_hkid():
    for index in INDICES:
        sides = _build(DocumentType.MAINLAND_TRAVEL_PERMIT, index)
        t = sides[Side.FRONT].truth
        code = parse_mtp(t["machine_code"])
        assert code.valid, code.checks
        assert code.fields["name_zh"] == t["name_zh"][:4]
        assert code.fields["issue_times"] == t["issue_times"]
        assert f"{code.fields['surname']}, {code.fields['given_names']}" == t["name_en"]
        _check_validity(t, adult_age=18)
        back = sides[Side.BACK].truth
        assert hkid_is_valid(back["hkid_number"])
        assert back["hkid_name"].upper() == t["name_en"]


def test_hkid_numbers_telecodes_and_dates_are_consistent():
    two_letter = 0
    for index in range(60):
        t = _build(DocumentType.HK_ID_CARD, index)[Side.FRONT].truth
        assert hkid_is_valid(t["document_number"])
        two_letter += t["document_number"][1].isalpha()
        assert unihan.decode_telecodes(t["telecode"]) == t["name_zh"]
        assert t["permanent"] == ("***" in t["symbols"])
        birth, first, issue = _d(t["birth_date"]), _d(t["first_issue_date"]), _d(t["issue_date"])
        assert identities.add_years(birth, 11) < first <= issue
        assert identities.age_on(birth, issue) >= 18
        assert t["card_version"] in ("2003", "2018")
    assert two_letter, "two-letter prefixes should appear"


@pytest.mark.skipif(not unihan.UNIHAN_DIR.exists(), reason="unicode-data is not installed")
def test_committed_unihan_table_is_up_to_date():
    assert unihan.build_table(all_characters()) == unihan.table()
