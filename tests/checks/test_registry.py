"""run_checks: fixed order, fail-closed on a crash, the issue's acceptance specimens, no PII in details."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from kyc.checks import CODES, FAIL, PASS, CheckOutcome, registry, run_checks
from ocr_providers.documents import DocumentType, Side
from tests.checks.specimens import ALL_SIDES, lookup_returning, make_input, truth

PASSPORT, EEP, MTP = (
    DocumentType.CN_PASSPORT,
    DocumentType.EXIT_ENTRY_PERMIT,
    DocumentType.MAINLAND_TRAVEL_PERMIT,
)


def _failed(outcomes: list[CheckOutcome]) -> set[str]:
    return {o.code for o in outcomes if o.result == FAIL}


@pytest.mark.parametrize(("document_type", "side"), ALL_SIDES)
def test_every_check_runs_once_in_the_registry_order(document_type, side):
    outcomes = run_checks(make_input(document_type, side, duplicate_lookup=lookup_returning()))
    assert [o.code for o in outcomes] == list(CODES)
    assert _failed(outcomes) == set()


def test_vendor_warnings_expand_in_place():
    codes = [o.code for o in run_checks(make_input(PASSPORT, warnings=("blur", "tampered")))]
    assert codes == [*CODES[:-1], "vendor_warning.blur", "vendor_warning.tampered"]


def test_a_check_that_crashes_fails_closed_without_logging_its_message(monkeypatch, caplog):
    def broken(inp):
        raise ValueError("E12345678 is secret")

    monkeypatch.setattr(registry, "CHECKS", (("broken_check", broken), *registry.CHECKS[1:]))
    with caplog.at_level(logging.ERROR, logger="kyc.checks.registry"):
        outcomes = run_checks(make_input(PASSPORT))
    assert (outcomes[0].code, outcomes[0].result) == ("broken_check", FAIL)
    assert "secret" not in caplog.text
    assert "ValueError" in caplog.text


def test_an_unknown_result_is_refused():
    with pytest.raises(ValueError, match="unknown check result"):
        CheckOutcome("x", "maybe", "detail")


# --- the acceptance specimens: each lands in review with the right failed check ------------------


def test_a_wrong_check_digit_fails_only_the_check_digits():
    mrz = truth(PASSPORT)["mrz"].split("\n")
    mrz[1] = mrz[1][:19] + str((int(mrz[1][19]) + 1) % 10) + mrz[1][20:]  # birth date check digit
    outcomes = run_checks(make_input(PASSPORT, changes={"mrz": "\n".join(mrz)}, duplicate_lookup=lookup_returning()))
    assert _failed(outcomes) == {"machine_code_check_digits"}


@pytest.mark.parametrize("document_type", [EEP, MTP])
def test_an_expired_permit_fails_only_the_expiry_check(document_type):
    expiry = date.fromisoformat(truth(document_type)["expiry_date"])
    inp = make_input(document_type, today=expiry + timedelta(days=30), duplicate_lookup=lookup_returning())
    assert _failed(run_checks(inp)) == {"not_expired"}


@pytest.mark.parametrize(
    ("document_type", "side"), [(DocumentType.HK_ID_CARD, Side.FRONT), (MTP, Side.BACK), (EEP, Side.FRONT)]
)
def test_a_duplicate_number_fails_only_the_duplicate_check(document_type, side):
    inp = make_input(document_type, side, duplicate_lookup=lookup_returning("17"))
    assert _failed(run_checks(inp)) == {"duplicate_document_number"}


# --- details and data never carry personal values ----------------------------------------------------------


def _personal_values(document_type: DocumentType, side: Side) -> set[str]:
    values = {
        str(v) for k, v in truth(document_type, side).items() if k not in {"permit_type", "card_version", "permanent"}
    }
    return {v for v in values if len(v) >= 4}


@pytest.mark.parametrize(("document_type", "side"), ALL_SIDES)
def test_no_outcome_quotes_a_field_value(document_type, side):
    t = truth(document_type, side)
    broken = {k: (v[:-1] + "Z" if isinstance(v, str) and len(v) > 4 else v) for k, v in t.items()}
    outcomes = [
        *run_checks(make_input(document_type, side, duplicate_lookup=lookup_returning("3"))),
        *run_checks(make_input(document_type, side, changes=broken, duplicate_lookup=lookup_returning("3"))),
    ]
    # The EEP back carries only endorsements, which no check reads yet.
    assert any(o.result == FAIL for o in outcomes) or (document_type, side) == (EEP, Side.BACK)
    text = " ".join(f"{o.detail} {o.data}" for o in outcomes)
    leaked = {
        v
        for v in _personal_values(document_type, side)
        | {v for v in broken.values() if isinstance(v, str) and len(v) >= 4}
        if v in text
    }
    assert leaked == set()
    assert all(o.result == PASS or o.detail for o in outcomes)
