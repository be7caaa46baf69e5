"""HKID telecodes against the names, and declared applicant data against the document."""

from __future__ import annotations

from datetime import date

import pytest

from kyc.checks import (
    FAIL,
    NOT_AVAILABLE,
    PASS,
    WARN,
    check_declared_data_matches,
    check_telecode_matches_name,
)
from ocr_providers.documents import DocumentType, Side
from tests.checks.specimens import ALL_SIDES, INDICES, make_input, truth

HKID, PASSPORT = DocumentType.HK_ID_CARD, DocumentType.CN_PASSPORT
EEP, MTP = DocumentType.EXIT_ENTRY_PERMIT, DocumentType.MAINLAND_TRAVEL_PERMIT


# --- telecodes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(20))
def test_specimen_telecodes_decode_to_the_name(index):
    outcome = check_telecode_matches_name(make_input(HKID, index=index))
    assert outcome.code == "telecode_matches_name"
    assert outcome.result == PASS
    assert outcome.data["matches_name_zh"] is True
    assert outcome.data["syllables_match"] is True


def test_telecodes_of_another_name_fail():
    groups = truth(HKID)["telecode"].split()
    swapped = " ".join([groups[-1], *groups[1:-1], groups[0]]) if len(set(groups)) > 1 else "0001 " * len(groups)
    outcome = check_telecode_matches_name(make_input(HKID, changes={"telecode": swapped.strip()}))
    assert outcome.result == FAIL
    assert outcome.data["matches_name_zh"] is False


def test_a_missing_telecode_fails_even_if_the_rest_decode():
    groups = truth(HKID)["telecode"].split()
    outcome = check_telecode_matches_name(make_input(HKID, changes={"telecode": " ".join(groups[:-1])}))
    assert outcome.result == FAIL


def test_an_unknown_telecode_warns():
    groups = truth(HKID)["telecode"].split()
    outcome = check_telecode_matches_name(make_input(HKID, changes={"telecode": " ".join(["9999", *groups[1:]])}))
    assert outcome.result == WARN
    assert outcome.data["decoded"] is False


def test_an_english_given_name_warns_on_the_syllable_count():
    name_en = truth(HKID)["name_en"].replace(", ", ", Peter ")
    outcome = check_telecode_matches_name(make_input(HKID, changes={"name_en": name_en}))
    assert outcome.result == WARN
    assert outcome.data["syllables_match"] is False
    assert outcome.data["matches_name_zh"] is True


def test_telecodes_that_are_not_groups_of_four_digits_warn():
    outcome = check_telecode_matches_name(make_input(HKID, changes={"telecode": "71l5 112"}))
    assert outcome.result == WARN
    assert outcome.data == {"groups_well_formed": False}


def test_only_the_english_name_is_still_compared():
    outcome = check_telecode_matches_name(make_input(HKID, drop=("name_zh",)))
    assert outcome.result == PASS
    assert outcome.data["matches_name_zh"] is None


@pytest.mark.parametrize(
    ("options", "says"),
    [({"drop": ("telecode",)}, "not read"), ({"drop": ("name_zh", "name_en")}, "Neither")],
)
def test_telecodes_are_not_available_without_inputs(options, says):
    outcome = check_telecode_matches_name(make_input(HKID, **options))
    assert outcome.result == NOT_AVAILABLE
    assert says in outcome.detail


@pytest.mark.parametrize(("document_type", "side"), [p for p in ALL_SIDES if p[0] != HKID])
def test_telecodes_are_not_available_on_other_documents(document_type, side):
    assert check_telecode_matches_name(make_input(document_type, side)).result == NOT_AVAILABLE


# --- declared data -----------------------------------------------------------------------------------


def _declared(document_type: DocumentType, side: Side = Side.FRONT, index: int = 0) -> dict[str, str]:
    t = truth(document_type, side, index)
    if side == Side.BACK:
        return {"name_en": t["hkid_name"]}
    name_en = f"{t['surname_en']} {t['given_names_en']}" if document_type == PASSPORT else t["name_en"]
    declared = {"name_zh": t["name_zh"], "name_en": name_en, "birth_date": t["birth_date"]}
    return declared | ({"nationality": "CHN"} if document_type == PASSPORT else {})


DECLARING = [(t, Side.FRONT) for t in DocumentType] + [(MTP, Side.BACK)]


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize(("document_type", "side"), DECLARING)
def test_declared_data_taken_from_the_document_agrees(document_type, side, index):
    inp = make_input(document_type, side, index=index, declared=_declared(document_type, side, index))
    outcome = check_declared_data_matches(inp)
    assert outcome.code == "declared_data_matches"
    assert outcome.result == PASS
    assert set(outcome.data["compared"]) == set(_declared(document_type, side))


@pytest.mark.parametrize(
    ("document_type", "respelled"),
    [
        (HKID, lambda n: n.upper().replace(",", "")),
        (HKID, lambda n: " ".join(reversed(n.replace(",", "").split()))),
        (HKID, lambda n: n.replace(" ", "-").replace(",-", ", ")),
        (PASSPORT, lambda n: n.lower()),
        (MTP, lambda n: n.title().replace(", ", " , ")),
    ],
)
def test_english_names_compare_forgivingly(document_type, respelled):
    declared = _declared(document_type)
    declared["name_en"] = respelled(declared["name_en"])
    assert check_declared_data_matches(make_input(document_type, declared=declared)).result == PASS


@pytest.mark.parametrize("document_type", list(DocumentType))
@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("birth_date", "1901-02-03", "birth date"),
        ("name_en", "SMITH, JOHN", "English name"),
        ("name_zh", "司徒振邦明", "Chinese name"),
    ],
)
def test_a_declared_value_that_differs_fails_and_is_named(document_type, field, value, label):
    declared = _declared(document_type) | {field: value}
    outcome = check_declared_data_matches(make_input(document_type, declared=declared))
    assert outcome.result == FAIL
    assert outcome.data[f"{field}_agrees"] is False
    assert label in outcome.detail
    assert value not in outcome.detail


def test_a_chinese_name_of_the_same_length_warns():
    # 陈 against 陳: without a variant table this is left to the reviewer.
    name_zh = truth(MTP)["name_zh"]
    declared = _declared(MTP) | {"name_zh": "陳" + name_zh[1:] if name_zh[0] != "陳" else "李" + name_zh[1:]}
    assert check_declared_data_matches(make_input(MTP, declared=declared)).result == WARN


@pytest.mark.parametrize(("nationality", "result"), [("CHINESE", PASS), ("中国", PASS), ("china", PASS), ("GBR", FAIL)])
def test_passport_nationality_is_compared(nationality, result):
    inp = make_input(PASSPORT, declared={"nationality": nationality})
    assert check_declared_data_matches(inp).result == result


@pytest.mark.parametrize(
    ("document_type", "side", "declared", "says"),
    [
        (HKID, Side.FRONT, {}, "declared no data"),
        (HKID, Side.FRONT, {"name_en": "  ", "name_zh": None}, "declared no data"),
        (HKID, Side.FRONT, {"nationality": "CHN"}, "None of the declared data"),
        (EEP, Side.BACK, {"name_en": "ZHANG SAN"}, "None of the declared data"),
    ],
)
def test_declared_data_is_not_available_without_overlap(document_type, side, declared, says):
    outcome = check_declared_data_matches(make_input(document_type, side, declared=declared))
    assert outcome.result == NOT_AVAILABLE
    assert says in outcome.detail


def test_a_declared_birth_date_given_as_a_date_is_compared():
    birth = date.fromisoformat(truth(HKID)["birth_date"])
    outcome = check_declared_data_matches(make_input(HKID, declared={"birth_date": birth}))
    assert outcome.result == PASS
