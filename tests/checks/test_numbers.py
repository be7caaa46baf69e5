"""HKID check character and duplicate document numbers."""

from __future__ import annotations

import pytest

from kyc.checks import FAIL, NOT_AVAILABLE, PASS, check_duplicate_document_number, check_hkid_check_digit
from kyc.checks.numbers import HOLDERS_SHOWN
from ocr_providers.checkdigits import hkid_check_char
from ocr_providers.documents import DocumentType, Side
from tests.checks.specimens import ALL_SIDES, INDICES, lookup_returning, make_input, truth

HKID, MTP = DocumentType.HK_ID_CARD, DocumentType.MAINLAND_TRAVEL_PERMIT
HKID_SIDES = {(HKID, Side.FRONT): "document_number", (MTP, Side.BACK): "hkid_number"}


def _wrong_check(number: str) -> str:
    body = number[: number.index("(")]
    wrong = next(c for c in "0123456789A" if c != hkid_check_char(body))
    return f"{body}({wrong})"


# --- HKID check character ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize(("document_type", "side"), list(HKID_SIDES))
def test_specimen_hkid_numbers_pass(document_type, side, index):
    outcome = check_hkid_check_digit(make_input(document_type, side, index=index))
    assert outcome.code == "hkid_check_digit"
    assert outcome.result == PASS
    assert outcome.data["field"] == HKID_SIDES[(document_type, side)]


@pytest.mark.parametrize(("document_type", "side"), list(HKID_SIDES))
def test_a_wrong_check_character_fails_with_the_number_masked(document_type, side):
    name = HKID_SIDES[(document_type, side)]
    number = _wrong_check(truth(document_type, side)[name])
    outcome = check_hkid_check_digit(make_input(document_type, side, changes={name: number}))
    assert outcome.result == FAIL
    assert outcome.data["well_formed"] is True
    assert number not in outcome.detail
    assert "***" in outcome.detail


@pytest.mark.parametrize("number", ["A12345(3)", "1234567(8)", "ABC123456(7)"])
def test_a_malformed_hkid_number_fails(number):
    outcome = check_hkid_check_digit(make_input(HKID, changes={"document_number": number}))
    assert outcome.result == FAIL
    assert outcome.data["well_formed"] is False


def test_common_spellings_of_a_valid_number_pass():
    body = "G123456"
    spelling = f"g 123456 {hkid_check_char(body)}".lower()
    outcome = check_hkid_check_digit(make_input(HKID, changes={"document_number": spelling}))
    assert outcome.result == PASS


@pytest.mark.parametrize(("document_type", "side"), [p for p in ALL_SIDES if p not in HKID_SIDES])
def test_hkid_check_is_not_available_on_other_sides(document_type, side):
    assert check_hkid_check_digit(make_input(document_type, side)).result == NOT_AVAILABLE


@pytest.mark.parametrize(("document_type", "side"), list(HKID_SIDES))
def test_hkid_check_is_not_available_when_the_number_was_not_read(document_type, side):
    outcome = check_hkid_check_digit(make_input(document_type, side, drop=(HKID_SIDES[(document_type, side)],)))
    assert outcome.result == NOT_AVAILABLE
    assert "not read" in outcome.detail


# --- duplicates ---------------------------------------------------------------------------------------

NUMBERED = {
    (HKID, Side.FRONT): ("hkid", "document_number"),
    (MTP, Side.BACK): ("hkid", "hkid_number"),
    (DocumentType.CN_PASSPORT, Side.FRONT): ("cn_passport", "document_number"),
    (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT): ("exit_entry_permit", "document_number"),
    (MTP, Side.FRONT): ("mainland_travel_permit", "document_number"),
}


@pytest.mark.parametrize(("document_type", "side"), list(NUMBERED))
def test_a_number_nobody_else_holds_passes_and_uses_the_right_namespace(document_type, side):
    lookup = lookup_returning()
    outcome = check_duplicate_document_number(make_input(document_type, side, duplicate_lookup=lookup))
    namespace, name = NUMBERED[(document_type, side)]
    assert outcome.code == "duplicate_document_number"
    assert outcome.result == PASS
    assert lookup.calls == [(namespace, truth(document_type, side)[name])]


@pytest.mark.parametrize(("document_type", "side"), list(NUMBERED))
def test_a_number_another_applicant_holds_fails(document_type, side):
    lookup = lookup_returning("41", "7", "41")
    outcome = check_duplicate_document_number(make_input(document_type, side, duplicate_lookup=lookup))
    number = truth(document_type, side)[NUMBERED[(document_type, side)][1]]
    assert outcome.result == FAIL
    assert outcome.data["other_applicants"] == ["41", "7"]
    assert "2 other applicants" in outcome.detail
    assert number not in outcome.detail


def test_a_lookup_that_stopped_reading_early_says_there_may_be_more():
    from kyc.checks.base import Holders

    found = Holders(["41", "7"])
    found.partial = True
    outcome = check_duplicate_document_number(make_input(HKID, duplicate_lookup=lambda namespace, number: found))
    assert outcome.result == FAIL
    assert outcome.data["other_applicants"] == ["41", "7"]
    assert outcome.data["more_applicants"] is True
    assert "at least 2 other applicants" in outcome.detail
    assert "there may be more" in outcome.detail
    single = Holders(["41"])
    single.partial = True
    outcome = check_duplicate_document_number(make_input(HKID, duplicate_lookup=lambda namespace, number: single))
    assert "at least 1 other applicant." in outcome.detail


def test_many_holders_are_capped_and_said_to_be_more():
    lookup = lookup_returning(*[str(n) for n in range(HOLDERS_SHOWN + 1)])
    outcome = check_duplicate_document_number(make_input(HKID, duplicate_lookup=lookup))
    assert outcome.result == FAIL
    assert len(outcome.data["other_applicants"]) == HOLDERS_SHOWN
    assert outcome.data["more_applicants"] is True
    assert f"more than {HOLDERS_SHOWN} other applicants" in outcome.detail


def test_the_hkid_number_on_a_travel_permit_back_is_called_an_hkid_number():
    outcome = check_duplicate_document_number(make_input(MTP, Side.BACK, duplicate_lookup=lookup_returning("9")))
    assert "HKID number" in outcome.detail
    assert "1 other applicant." in outcome.detail


def test_duplicates_are_not_available_without_a_lookup():
    assert check_duplicate_document_number(make_input(HKID)).result == NOT_AVAILABLE


def test_duplicates_are_not_available_on_a_side_without_a_number():
    inp = make_input(DocumentType.EXIT_ENTRY_PERMIT, Side.BACK, duplicate_lookup=lookup_returning("1"))
    assert check_duplicate_document_number(inp).result == NOT_AVAILABLE


def test_duplicates_are_not_available_when_the_number_was_not_read():
    lookup = lookup_returning("1")
    outcome = check_duplicate_document_number(make_input(HKID, drop=("document_number",), duplicate_lookup=lookup))
    assert outcome.result == NOT_AVAILABLE
    assert lookup.calls == []
