"""Dates parse and are plausible; the document has not expired."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from kyc.checks import FAIL, NOT_AVAILABLE, PASS, WARN, check_dates_plausible, check_not_expired
from ocr_providers.base import OcrField
from ocr_providers.documents import DocumentType, Side
from tests.checks.specimens import FRONTS, INDICES, TODAY, make_input, truth

HKID = DocumentType.HK_ID_CARD
EXPIRING = [DocumentType.CN_PASSPORT, DocumentType.EXIT_ENTRY_PERMIT, DocumentType.MAINLAND_TRAVEL_PERMIT]
BACKS = [(DocumentType.EXIT_ENTRY_PERMIT, Side.BACK), (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK)]


def _shift(iso: str, days: int) -> str:
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat()


# --- plausibility ------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("document_type", FRONTS)
def test_specimen_dates_are_plausible(document_type, index):
    outcome = check_dates_plausible(make_input(document_type, index=index))
    assert outcome.code == "dates_plausible"
    assert outcome.result == PASS
    assert outcome.data["problems"] == []


@pytest.mark.parametrize("document_type", EXPIRING)
@pytest.mark.parametrize(
    ("problem", "changes"),
    [
        ("birth_in_future", lambda t: {"birth_date": _shift(TODAY.isoformat(), 1)}),
        ("issue_not_after_birth", lambda t: {"birth_date": _shift(t["issue_date"], 1)}),
        ("issue_in_future", lambda t: {"issue_date": _shift(TODAY.isoformat(), 3)}),
        ("expiry_not_after_issue", lambda t: {"expiry_date": t["issue_date"]}),
        ("validity_too_long", lambda t: {"expiry_date": _shift(t["issue_date"], 365 * 12)}),
        ("too_old", lambda t: {"birth_date": "1890-01-01"}),
    ],
)
def test_implausible_dates_fail_and_say_why(document_type, problem, changes):
    inp = make_input(document_type, changes=changes(truth(document_type)))
    outcome = check_dates_plausible(inp)
    assert outcome.result == FAIL
    assert problem in outcome.data["problems"]
    assert outcome.detail.endswith(".")


@pytest.mark.parametrize(
    ("problem", "changes"),
    [
        ("first_issue_before_birth", lambda t: {"first_issue_date": "1940-01-01"}),
        ("first_issue_after_issue", lambda t: {"first_issue_date": _shift(t["issue_date"], 40)}),
    ],
)
def test_implausible_hkid_first_issue_dates_fail(problem, changes):
    outcome = check_dates_plausible(make_input(HKID, changes=changes(truth(HKID))))
    assert outcome.result == FAIL
    assert problem in outcome.data["problems"]


def test_a_first_issue_in_the_month_of_birth_is_allowed():
    birth = truth(HKID)["birth_date"]
    outcome = check_dates_plausible(make_input(HKID, changes={"first_issue_date": birth[:8] + "01"}))
    assert "first_issue_before_birth" not in outcome.data["problems"]


@pytest.mark.parametrize("document_type", FRONTS)
def test_a_date_that_does_not_parse_fails(document_type):
    outcome = check_dates_plausible(make_input(document_type, changes={"birth_date": "1990-13-45"}))
    assert outcome.result == FAIL
    assert outcome.data["unparsed"] == ["birth_date"]
    assert "birth date did not read as a date" in outcome.detail
    assert "1990-13-45" not in outcome.detail


def test_a_date_read_but_not_normalised_fails():
    inp = make_input(HKID)
    fields = dict(inp.fields) | {"issue_date": OcrField(value=None, raw="3l-O2-2O")}
    outcome = check_dates_plausible(replace(inp, fields=fields))
    assert outcome.data["unparsed"] == ["issue_date"]


def test_only_a_birth_date_is_still_checked():
    inp = make_input(HKID, drop=("issue_date", "first_issue_date"))
    assert check_dates_plausible(inp).data["checked"] == ["birth_date"]


@pytest.mark.parametrize(("document_type", "side"), BACKS)
def test_plausibility_is_not_available_without_dates(document_type, side):
    assert check_dates_plausible(make_input(document_type, side)).result == NOT_AVAILABLE


# --- expiry ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("document_type", EXPIRING)
def test_specimens_have_not_expired(document_type, index):
    outcome = check_not_expired(make_input(document_type, index=index))
    assert outcome.code == "not_expired"
    assert outcome.result == PASS


@pytest.mark.parametrize("document_type", EXPIRING)
def test_an_expired_document_fails(document_type):
    expiry = date.fromisoformat(truth(document_type)["expiry_date"])
    outcome = check_not_expired(make_input(document_type, today=expiry + timedelta(days=1)))
    assert outcome.result == FAIL
    assert outcome.data["expired"] is True
    assert expiry.isoformat() not in outcome.detail


@pytest.mark.parametrize("document_type", EXPIRING)
def test_the_expiry_day_itself_is_still_valid(document_type):
    expiry = date.fromisoformat(truth(document_type)["expiry_date"])
    outcome = check_not_expired(make_input(document_type, today=expiry, expiry_warning_days=0))
    assert outcome.result == PASS


@pytest.mark.parametrize(
    ("days_left", "window", "result"), [(29, 30, WARN), (30, 30, PASS), (0, 1, WARN), (400, 90, PASS)]
)
def test_expiring_within_the_configured_window_warns(days_left, window, result):
    expiry = date.fromisoformat(truth(DocumentType.CN_PASSPORT)["expiry_date"])
    inp = make_input(DocumentType.CN_PASSPORT, today=expiry - timedelta(days=days_left), expiry_warning_days=window)
    outcome = check_not_expired(inp)
    assert outcome.result == result
    assert outcome.data["expiring_soon"] is (result == WARN)


@pytest.mark.parametrize(
    ("document_type", "side", "options", "says"),
    [
        (HKID, Side.FRONT, {}, "no expiry date"),
        (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK, {}, "front side"),
        (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK, {}, "front side"),
        (DocumentType.CN_PASSPORT, Side.FRONT, {"drop": ("expiry_date",)}, "not read"),
        (
            DocumentType.CN_PASSPORT,
            Side.FRONT,
            {"changes": {"expiry_date": "20X0-01-01"}},
            "did not read as a date",
        ),
    ],
)
def test_expiry_is_not_available_when_there_is_none_to_check(document_type, side, options, says):
    outcome = check_not_expired(make_input(document_type, side, **options))
    assert outcome.result == NOT_AVAILABLE
    assert says in outcome.detail
