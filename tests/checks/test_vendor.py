"""Vendor warnings become one outcome each."""

from __future__ import annotations

import pytest

from kyc.checks import FAIL, NOT_AVAILABLE, PASS, WARN, check_vendor_warnings
from ocr_providers.documents import DocumentType, Warning
from tests.checks.specimens import FRONTS, make_input

EXPECTED = {
    Warning.PHOTOCOPY: FAIL,
    Warning.SCREEN_CAPTURE: FAIL,
    Warning.TAMPERED: FAIL,
    Warning.COVERED: FAIL,
    Warning.FIELD_DISAGREEMENT: FAIL,
    Warning.REFLECTION: WARN,
    Warning.BLUR: WARN,
    Warning.INCOMPLETE: WARN,
    Warning.NOT_OFFERED: NOT_AVAILABLE,
}


def test_every_normalised_warning_has_a_verdict():
    assert set(EXPECTED) == set(Warning)


@pytest.mark.parametrize("document_type", FRONTS)
def test_no_warnings_is_one_pass(document_type):
    (outcome,) = check_vendor_warnings(make_input(document_type))
    assert (outcome.code, outcome.result) == ("vendor_warning", PASS)


@pytest.mark.parametrize(("warning", "result"), EXPECTED.items())
def test_each_warning_has_its_own_code_and_result(warning, result):
    (outcome,) = check_vendor_warnings(make_input(DocumentType.HK_ID_CARD, warnings=(warning,)))
    assert outcome.code == f"vendor_warning.{warning}"
    assert outcome.result == result
    assert outcome.detail.startswith("The vendor")


def test_several_warnings_give_several_outcomes_once_each():
    inp = make_input(DocumentType.CN_PASSPORT, warnings=("blur", "photocopy", "blur"))
    assert [o.code for o in check_vendor_warnings(inp)] == ["vendor_warning.blur", "vendor_warning.photocopy"]


def test_an_unknown_warning_is_a_warning():
    (outcome,) = check_vendor_warnings(make_input(DocumentType.CN_PASSPORT, warnings=("glitter",)))
    assert (outcome.code, outcome.result) == ("vendor_warning.glitter", WARN)
