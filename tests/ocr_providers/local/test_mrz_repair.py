"""Machine-code repair: look-alike fixes, filler runs, the toggle limit and the check-digit gate."""

from __future__ import annotations

from datetime import date

import pytest

from ocr_providers.local.confidence import fuse
from ocr_providers.local.extraction import mrz_reading
from ocr_providers.local.mrz_read import FORMATS, MrzRead, _solve
from ocr_providers.local.mrz_repair import fit_width, normalise
from ocr_providers.machine_codes import build_eep, build_mtp, build_td3

TD3 = build_td3(
    issuing_state="CHN", surname="ZHAO", given_names="YU JIA", document_number="EA1234567", nationality="CHN",
    birth_date=date(1990, 3, 4), sex="F", expiry_date=date(2031, 5, 6), optional="MOOCLPKBNBOA",
)  # fmt: skip
EEP = build_eep(document_number="CX8666617", expiry_date=date(2035, 1, 31), birth_date=date(1995, 12, 20))
MTP = build_mtp(
    document_number="H12345678", expiry_date=date(2030, 1, 2), birth_date=date(1980, 5, 6), name_zh="陈大文",
    sex="M", issue_times="3", surname="CHAN", given_names="TAI MAN",
)  # fmt: skip


def solve(kind: str, *lines: str):
    return _solve(list(lines), FORMATS[kind])


def test_normalise_maps_filler_lookalikes_and_full_width():
    assert normalise("cs«C８ ‹く＜") == "CS<<C8<<<"


@pytest.mark.parametrize(
    "misread",
    [
        EEP.replace("<", "K", 1),  # '<' read as K
        EEP.replace("<", "(", 1),  # '<' read as (
        EEP.replace("<", " ", 1),  # '<' read as a space
        EEP.replace("<", "", 1),  # '<' dropped
        EEP.replace("X", "×").lower(),  # lower case, multiplication sign for X
    ],
)
def test_eep_line_repairs_common_confusions(misread):
    code, _toggles, ambiguous = solve("eep", misread)
    assert code.valid
    assert not ambiguous
    assert code.fields["document_number"] == "CX8666617"


def test_digit_slots_are_forced_not_toggled():
    # 'O' and 'I' inside dates sit in digit-only slots: the layout says so, no toggle is spent.
    misread = EEP[:13] + EEP[13:19].replace("3", "B").replace("0", "O") + EEP[19:]
    code, toggles, _ = solve("eep", misread)
    assert code.valid
    assert toggles == 0


def test_alphanumeric_slot_toggles_are_counted():
    misread = EEP.replace("CX8", "CX8").replace("X", "X")  # sanity: unchanged line, no toggles
    assert solve("eep", misread)[1] == 0
    number_with_zero = build_eep(
        document_number="C08666617", expiry_date=date(2035, 1, 31), birth_date=date(1995, 12, 20)
    )
    code, toggles, _ = solve("eep", number_with_zero.replace("C0866", "CO866"))
    assert code.valid
    assert toggles == 1
    assert code.fields["document_number"] == "C08666617"


def test_td3_filler_run_and_name_k_repaired():
    line1 = TD3[0].replace("<<<<<", "<<K<<", 1).replace("ZHAO", "ZHA0")
    line2 = TD3[1].replace("<<", "<", 1)
    code, _, ambiguous = solve("td3", line1, line2)
    assert code.valid
    assert not ambiguous
    assert code.fields["surname"] == "ZHAO"
    assert code.fields["given_names"] == "YU JIA"


def test_gbk_optional_field_beats_the_check_digit_blind_spot():
    # O->0 twice at weights 7 and 3 changes the sum by 240: every check digit still passes.
    blind = TD3[1].replace("MOOC", "M00C")
    code, _, ambiguous = solve("td3", TD3[0], blind)
    assert code.valid
    assert not ambiguous
    assert code.fields["optional"] == "MOOCLPKBNBOA"


def test_a_line_of_fillers_is_never_a_valid_code():
    # Every check digit of an all-filler line is 0, which '<' stands for: it must still be refused.
    _, _, ambiguous = solve("td3", "PEOPLESREPUBLICOFCHINA", "P<CHNDONG<<QI" + "<" * 31)
    assert ambiguous


def test_more_than_two_toggles_is_not_repaired():
    number = "C10111011"
    line = build_eep(document_number=number, expiry_date=date(2035, 1, 31), birth_date=date(1995, 12, 20))
    # Only position 2 of the number is alphanumeric: I's in digit slots are forced back to 1.
    code, toggles, _ = solve("eep", line.replace("C1", "CI"))
    assert code.valid
    assert toggles == 1
    code, _, _ = solve("eep", line[:2] + "CI0III0II" + line[11:])
    assert code.fields["document_number"] == number


def test_check_digit_gate_rejects_fields_whose_digit_fails():
    bad = EEP[:19] + str((int(EEP[19]) + 1) % 10) + EEP[20:]  # expiry check digit wrong
    code, toggles, ambiguous = solve("eep", bad)
    assert not code.valid
    assert not code.checks["expiry_date"]
    assert code.checks["document_number"]
    read = MrzRead(code, toggles, 0, ambiguous, (), 0.99)
    assert fuse(None, mrz_reading(read, "expiry_date")) is None  # a failing field is never taken
    number = fuse(None, mrz_reading(read, "document_number"))
    assert number is not None
    assert number.field.confidence < 0.9


def test_machine_code_names_are_never_taken_alone():
    code, toggles, ambiguous = solve("mtp", *MTP)
    read = MrzRead(code, toggles, 0, ambiguous, (), 0.99)
    assert fuse(None, mrz_reading(read, "surname", checked_by="")) is None


def test_mtp_block_parses_gbk_name_and_issue_times():
    code, _, _ = solve("mtp", MTP[0], MTP[1].replace("<<<<<", "<<<<", 1), MTP[2].replace("<<", "«", 1))
    assert code.valid
    assert code.fields["name_zh"] == "陈大文"
    assert code.fields["issue_times"] == "03"


def test_fit_width_only_moves_filler_runs():
    assert fit_width("AB<<CD", 7) == ["AB<<<CD", "AB<<CD<"]
    assert fit_width("AB<<<CD", 6) == ["AB<<CD"]
