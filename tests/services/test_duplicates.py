"""The duplicate-number lookup: other applicants holding a number, read through the blind index, with a
bound on how many of the documents carrying it one lookup reads."""

from __future__ import annotations

import pytest

from kyc import crypto
from kyc.models import ExtractedField
from kyc.rows import fetch
from kyc.services import duplicates
from kyc.services.cases import applicant_create, case_open
from tests.conftest import bare_document

pytestmark = pytest.mark.django_db

NUMBER = ("hkid", "A1234563")


def _holding(partner, ref, copies=1):
    """An applicant with ``copies`` documents each carrying NUMBER; returns (applicant, its documents)."""
    case = case_open(applicant=applicant_create(partner=partner, external_ref=ref, actor=None), actor=None)
    documents = [bare_document(case) for _ in range(copies)]
    index = crypto.blind_index(*NUMBER)
    ExtractedField.objects.bulk_create(
        ExtractedField(document=d, name="document_number", value="x", source="vendor", blind_index=index)
        for d in documents
    )
    return case.applicant, documents


@pytest.fixture
def rows_read(monkeypatch):
    """ROWS_READ set low for the test (the statement is built once per process: rebuilt around it)."""

    def set_to(value):
        monkeypatch.setattr(duplicates, "ROWS_READ", value)
        duplicates._holders_read.cache_clear()

    yield set_to
    duplicates._holders_read.cache_clear()


def test_every_other_holder_once_and_complete_when_all_were_read(partner):
    _, (document, *_) = _holding(partner, "APP-A", copies=2)
    first, _ = _holding(partner, "APP-B", copies=3)
    second, _ = _holding(partner, "APP-C")
    found = duplicates.duplicate_lookup_for(document.pk)(*NUMBER)
    assert found == sorted([str(first.pk), str(second.pk)])
    assert found.partial is False
    assert duplicates.duplicate_lookup_for(document.pk)("hkid", "B7654321") == []


def test_a_number_on_more_documents_than_a_lookup_reads_is_said_to_be_partial(partner, rows_read):
    rows_read(4)
    _, (document,) = _holding(partner, "APP-A")
    other, _ = _holding(partner, "APP-B", copies=6)  # six documents of one other applicant: more than four
    found = duplicates.duplicate_lookup_for(document.pk)(*NUMBER)
    assert found == [str(other.pk)]
    assert found.partial is True
    assert [count for _, count in fetch(*duplicates.holders_read(*NUMBER, document.pk))] == [4]  # no more read
    rows_read(7)  # all six read: the answer is whole
    assert duplicates.duplicate_lookup_for(document.pk)(*NUMBER).partial is False


def test_the_holders_shown_are_capped_however_many_hold_it(partner, rows_read):
    from kyc.checks.numbers import HOLDERS_SHOWN

    rows_read(HOLDERS_SHOWN + 5)
    _, (document,) = _holding(partner, "APP-0")
    for n in range(HOLDERS_SHOWN + 3):
        _holding(partner, f"APP-{n + 1}")
    found = duplicates.duplicate_lookup_for(document.pk)(*NUMBER)
    assert len(found) == HOLDERS_SHOWN + 1  # one more than shown: the check says "more than"
    assert found.partial is False
