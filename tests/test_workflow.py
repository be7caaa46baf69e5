"""The whole transition map, walked pair by pair, through the pure module and through the services."""

from __future__ import annotations

import itertools

import pytest

from kyc.choices import CaseStatus, DocumentStatus
from kyc.exceptions import InvalidTransition
from kyc.models import AuditEvent, Case
from kyc.services.cases import _case_transition
from kyc.services.documents import _document_set_status
from kyc.workflow import (
    CASE_TERMINAL,
    CASE_TRANSITIONS,
    DOCUMENT_TERMINAL,
    DOCUMENT_TRANSITIONS,
    case_can_transition,
    document_can_transition,
)
from tests.conftest import bare_document

EXPECTED_DOCUMENT_EDGES = {
    ("received", "queued"),
    ("received", "rejected"),
    ("received", "resubmission_requested"),
    ("queued", "processing"),
    ("queued", "failed"),
    ("queued", "rejected"),
    ("queued", "resubmission_requested"),
    ("processing", "extracted"),
    ("processing", "unreadable"),
    ("processing", "failed"),
    ("processing", "queued"),
    ("extracted", "approved"),
    ("extracted", "rejected"),
    ("extracted", "resubmission_requested"),
    ("extracted", "queued"),
    ("unreadable", "queued"),
    ("unreadable", "rejected"),
    ("unreadable", "resubmission_requested"),
    ("failed", "queued"),
    ("failed", "rejected"),
    ("failed", "resubmission_requested"),
}
EXPECTED_CASE_EDGES = {
    ("open", "in_review"),
    ("open", "approved"),
    ("open", "rejected"),
    ("open", "resubmission_requested"),
    ("in_review", "awaiting_second_approval"),
    ("in_review", "approved"),
    ("in_review", "rejected"),
    ("in_review", "resubmission_requested"),
    ("awaiting_second_approval", "approved"),
    ("awaiting_second_approval", "rejected"),
    ("awaiting_second_approval", "in_review"),
    ("resubmission_requested", "open"),
}


def test_every_status_has_an_entry_in_its_map():
    assert set(DOCUMENT_TRANSITIONS) == set(DocumentStatus)
    assert set(CASE_TRANSITIONS) == set(CaseStatus)


def test_terminal_statuses():
    assert {"approved", "rejected", "resubmission_requested"} == DOCUMENT_TERMINAL
    assert {"approved", "rejected"} == CASE_TERMINAL


@pytest.mark.parametrize(("current", "target"), list(itertools.product(DocumentStatus.values, repeat=2)))
def test_document_pair(current, target):
    assert document_can_transition(current, target) == ((current, target) in EXPECTED_DOCUMENT_EDGES)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(CaseStatus.values, repeat=2)))
def test_case_pair(current, target):
    assert case_can_transition(current, target) == ((current, target) in EXPECTED_CASE_EDGES)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), list(itertools.product(DocumentStatus.values, repeat=2)))
def test_document_status_helper_follows_the_map(case, current, target):
    document = bare_document(case, status=current)
    events = AuditEvent.objects.count()
    if (current, target) in EXPECTED_DOCUMENT_EDGES:
        _document_set_status(document, to=target, actor=None)
        document.refresh_from_db()
        assert document.status == target
        event = AuditEvent.objects.latest("seq")
        assert (event.action, event.data["from"], event.data["to"]) == ("document.status_changed", current, target)
    else:
        with pytest.raises(InvalidTransition) as info:
            _document_set_status(document, to=target, actor=None)
        assert f"from {current!r} to {target!r}" in str(info.value)
        document.refresh_from_db()
        assert document.status == current
        assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), list(itertools.product(CaseStatus.values, repeat=2)))
def test_case_status_helper_follows_the_map(case, current, target):
    Case.objects.filter(pk=case.pk).update(status=current)
    case.refresh_from_db()
    if (current, target) in EXPECTED_CASE_EDGES:
        _case_transition(case, to=target, actor=None, action="case.test")
        case.refresh_from_db()
        assert case.status == target
        assert (case.closed_at is not None) == (target in CASE_TERMINAL)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current!r} to {target!r}"):
            _case_transition(case, to=target, actor=None, action="case.test")
