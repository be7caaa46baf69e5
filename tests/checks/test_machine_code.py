"""Machine-code check digits and agreement with the visual zone, over specimen truth."""

from __future__ import annotations

from datetime import date

import pytest

from kyc.checks import (
    FAIL,
    NOT_AVAILABLE,
    PASS,
    check_machine_code_check_digits,
    check_machine_code_matches_visual,
)
from ocr_providers.documents import DocumentType, Side
from ocr_providers.machine_codes import build_td3
from tests.checks.specimens import INDICES, make_input, truth

PASSPORT, EEP, MTP = (
    DocumentType.CN_PASSPORT,
    DocumentType.EXIT_ENTRY_PERMIT,
    DocumentType.MAINLAND_TRAVEL_PERMIT,
)
CODED = [PASSPORT, EEP, MTP]
CODE_FIELD = {PASSPORT: "mrz", EEP: "machine_code", MTP: "machine_code"}
# (line, column) of the document number's check digit in each layout.
NUMBER_CHECK = {PASSPORT: (1, 9), EEP: (0, 11), MTP: (0, 11)}
NO_CODE = [(DocumentType.HK_ID_CARD, Side.FRONT), (EEP, Side.BACK), (MTP, Side.BACK)]


def _set_char(code: str, line: int, column: int, char: str) -> str:
    lines = code.split("\n")
    lines[line] = lines[line][:column] + char + lines[line][column + 1 :]
    return "\n".join(lines)


def _wrong_digit(document_type: DocumentType, index: int = 0) -> str:
    code = truth(document_type, index=index)[CODE_FIELD[document_type]]
    line, column = NUMBER_CHECK[document_type]
    right = code.split("\n")[line][column]
    return _set_char(code, line, column, str((int(right) + 1) % 10))


# --- check digits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("document_type", CODED)
def test_check_digits_of_specimens_validate(document_type, index):
    outcome = check_machine_code_check_digits(make_input(document_type, index=index))
    assert outcome.code == "machine_code_check_digits"
    assert outcome.result == PASS
    assert all(outcome.data["checks"].values())


@pytest.mark.parametrize("document_type", CODED)
def test_a_wrong_number_check_digit_fails_and_is_named(document_type):
    inp = make_input(document_type, changes={CODE_FIELD[document_type]: _wrong_digit(document_type)})
    outcome = check_machine_code_check_digits(inp)
    assert outcome.result == FAIL
    assert outcome.data["checks"]["document_number"] is False
    assert "document number" in outcome.detail


@pytest.mark.parametrize("document_type", CODED)
def test_a_misread_number_character_breaks_its_check_and_the_composite(document_type):
    code = truth(document_type)[CODE_FIELD[document_type]]
    line, column = NUMBER_CHECK[document_type]
    start = column - 8  # a digit inside the number
    digit = code.split("\n")[line][start]
    inp = make_input(
        document_type,
        changes={CODE_FIELD[document_type]: _set_char(code, line, start, "8" if digit != "8" else "3")},
    )
    outcome = check_machine_code_check_digits(inp)
    assert outcome.result == FAIL
    assert not outcome.data["checks"]["document_number"]
    assert not outcome.data["checks"]["composite"]


@pytest.mark.parametrize("document_type", CODED)
def test_a_code_of_the_wrong_shape_fails(document_type):
    code = truth(document_type)[CODE_FIELD[document_type]]
    outcome = check_machine_code_check_digits(make_input(document_type, changes={CODE_FIELD[document_type]: code[:-3]}))
    assert outcome.result == FAIL
    assert outcome.data == {"parsed": False}


def test_an_mtp_code_on_an_exit_entry_permit_fails():
    mtp_line = truth(MTP)["machine_code"].split("\n")[0]
    outcome = check_machine_code_check_digits(make_input(EEP, changes={"machine_code": mtp_line}))
    assert outcome.result == FAIL


def test_a_corrupted_mtp_name_line_fails_its_line_check():
    code = truth(MTP)["machine_code"]
    inp = make_input(
        MTP, changes={"machine_code": _set_char(code, 1, 0, "A" if code.split("\n")[1][0] != "A" else "B")}
    )
    outcome = check_machine_code_check_digits(inp)
    assert outcome.result == FAIL
    assert outcome.data["checks"]["line2"] is False
    assert "second line" in outcome.detail


@pytest.mark.parametrize(("document_type", "side"), NO_CODE)
def test_check_digits_are_not_available_without_a_machine_code(document_type, side):
    outcome = check_machine_code_check_digits(make_input(document_type, side))
    assert outcome.result == NOT_AVAILABLE
    assert "no machine-readable code" in outcome.detail


@pytest.mark.parametrize("document_type", CODED)
def test_check_digits_are_not_available_when_the_code_was_not_read(document_type):
    outcome = check_machine_code_check_digits(make_input(document_type, drop=(CODE_FIELD[document_type],)))
    assert outcome.result == NOT_AVAILABLE
    assert "not read" in outcome.detail


# --- agreement with the visual zone ------------------------------------------------------------------

COMPARED = {
    PASSPORT: ["document_number", "birth_date", "expiry_date", "sex", "name"],
    EEP: ["document_number", "birth_date", "expiry_date"],
    MTP: ["document_number", "birth_date", "expiry_date", "sex", "name", "issue_times"],
}


def _other_day(iso: str) -> str:
    return date.fromisoformat(iso).replace(day=1 if iso[-2:] != "01" else 2).isoformat()


MUTATIONS = {
    "document_number": (
        "document_number",
        lambda v: v[:-1] + ("1" if v[-1] != "1" else "2"),
        "document number",
    ),
    "birth_date": ("birth_date", _other_day, "birth date"),
    "expiry_date": ("expiry_date", lambda v: str(int(v[:4]) + 1) + v[4:], "expiry date"),
    "sex": ("sex", lambda v: "F" if v == "M" else "M", "sex"),
}


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("document_type", CODED)
def test_specimen_codes_agree_with_the_visual_zone(document_type, index):
    outcome = check_machine_code_matches_visual(make_input(document_type, index=index))
    assert outcome.code == "machine_code_matches_visual"
    assert outcome.result == PASS
    assert outcome.data["compared"] == COMPARED[document_type]


@pytest.mark.parametrize(
    ("document_type", "what"),
    [(t, w) for t in CODED for w in COMPARED[t] if w in MUTATIONS],
)
def test_a_visual_field_that_differs_from_the_code_fails_and_is_named(document_type, what):
    name, change, label = MUTATIONS[what]
    value = truth(document_type)[name]
    outcome = check_machine_code_matches_visual(make_input(document_type, changes={name: change(value)}))
    assert outcome.result == FAIL
    assert outcome.data["differ"] == [what]
    assert label in outcome.detail
    assert value not in outcome.detail


@pytest.mark.parametrize(
    ("document_type", "changes"),
    [
        (PASSPORT, {"given_names_en": "XIAOMING"}),
        (PASSPORT, {"name_zh": "王小明"}),
        (MTP, {"name_en": "WONG, SIU MING"}),
        (MTP, {"name_zh": "王小明"}),
    ],
)
def test_a_different_name_fails(document_type, changes):
    outcome = check_machine_code_matches_visual(make_input(document_type, changes=changes))
    assert outcome.result == FAIL
    assert outcome.data["differ"] == ["name"]


def test_names_compare_letters_only():
    person = truth(MTP)
    forgiving = person["name_en"].title().replace(", ", ",  ").replace(" ", "-", 1)
    outcome = check_machine_code_matches_visual(make_input(MTP, changes={"name_en": forgiving}))
    assert outcome.result == PASS


def test_a_different_issue_count_fails():
    times = truth(MTP)["issue_times"]
    outcome = check_machine_code_matches_visual(make_input(MTP, changes={"issue_times": f"{int(times) % 9 + 1:02d}"}))
    assert outcome.data["differ"] == ["issue_times"]


def _passport_with(surname: str, given: str, birth: date) -> dict[str, str]:
    expiry = date(2030, 1, 1)
    mrz = build_td3(issuing_state="CHN", surname=surname, given_names=given, document_number="E12345678",
                    nationality="CHN", birth_date=birth, sex="F", expiry_date=expiry)  # fmt: skip
    return {"surname_en": surname, "given_names_en": given, "birth_date": birth.isoformat(),
            "expiry_date": expiry.isoformat(), "document_number": "E12345678", "sex": "F",
            "mrz": "\n".join(mrz)}  # fmt: skip


def test_a_birth_year_before_the_two_digit_window_still_agrees():
    # "20" in the zone reads as 2020; the visual 1920 must still agree.
    outcome = check_machine_code_matches_visual(
        make_input(PASSPORT, changes=_passport_with("LI", "NA", date(1920, 5, 1)))
    )
    assert outcome.result == PASS


def test_a_name_cut_off_by_the_zone_agrees_with_the_full_visual_name():
    changes = _passport_with("OUYANG", "ZHONGXIANGLONGFEIYANGDONGFANGHONGXIANG", date(1990, 1, 1))
    outcome = check_machine_code_matches_visual(make_input(PASSPORT, changes=changes, drop=("name_zh",)))
    assert outcome.result == PASS


@pytest.mark.parametrize("document_type", CODED)
def test_fields_filled_from_the_code_are_not_compared(document_type):
    copied = {name: "machine_code" for name in ("document_number", "birth_date")}
    outcome = check_machine_code_matches_visual(make_input(document_type, sources=copied))
    assert outcome.result == PASS
    assert {"document_number", "birth_date"} <= set(outcome.data["skipped"])


def test_nothing_read_independently_is_not_available():
    fields = ("document_number", "birth_date", "expiry_date")
    outcome = check_machine_code_matches_visual(make_input(EEP, sources=dict.fromkeys(fields, "machine_code")))
    assert outcome.result == NOT_AVAILABLE


@pytest.mark.parametrize("document_type", CODED)
def test_an_unparseable_code_is_not_compared(document_type):
    code = truth(document_type)[CODE_FIELD[document_type]]
    outcome = check_machine_code_matches_visual(
        make_input(document_type, changes={CODE_FIELD[document_type]: code[5:]})
    )
    assert outcome.result == NOT_AVAILABLE


@pytest.mark.parametrize(("document_type", "side"), NO_CODE)
def test_visual_agreement_is_not_available_without_a_machine_code(document_type, side):
    assert check_machine_code_matches_visual(make_input(document_type, side)).result == NOT_AVAILABLE
