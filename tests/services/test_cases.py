"""Case services: one verb each, each with its audit event; four-eyes; one active case per applicant."""

from __future__ import annotations

import pytest

from kyc.choices import CaseStatus, DocumentStatus
from kyc.exceptions import CaseConflict, InvalidTransition, KycError
from kyc.models import AuditEvent, Decision
from kyc.services import cases as services
from kyc.services.documents import document_add, document_transition
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("seq")


def test_open_review_and_four_eyes_approval(case, reviewer, second_reviewer):
    document = document_add(case=case, document_type="hk_id_card", side="front", data=image_bytes(), actor=reviewer)
    for status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING, DocumentStatus.EXTRACTED):
        document_transition(document=document, to=status, actor=None)
    services.case_start_review(case=case, actor=None, reason="default policy: review")
    case = services.case_approve(case=case, actor=reviewer)
    assert case.status == CaseStatus.AWAITING_SECOND_APPROVAL
    assert _last("case.first_approved").actor_repr == "reviewer"

    with pytest.raises(CaseConflict, match="different reviewer"):
        services.case_approve(case=case, actor=reviewer)

    case = services.case_approve(case=case, actor=second_reviewer, comment="matches the declared data")
    assert case.status == CaseStatus.APPROVED
    assert case.closed_at is not None
    assert list(Decision.objects.filter(case=case).values_list("kind", "actor_repr")) == [
        ("approve", "reviewer"),
        ("second_approve", "second"),
    ]
    document.refresh_from_db()
    assert document.status == DocumentStatus.APPROVED
    event = _last("case.approved")
    assert (event.data["from"], event.data["to"], event.actor_repr) == (
        "awaiting_second_approval",
        "approved",
        "second",
    )


def test_single_approval_when_the_partner_has_four_eyes_off(case, reviewer):
    case.applicant.partner.four_eyes = False
    case.applicant.partner.save()
    services.case_start_review(case=case, actor=None)
    assert services.case_approve(case=case, actor=reviewer).status == CaseStatus.APPROVED


def test_a_second_reviewer_can_send_a_case_back(case, reviewer, second_reviewer):
    services.case_start_review(case=case, actor=None)
    services.case_approve(case=case, actor=reviewer)
    case = services.case_return_to_review(case=case, actor=second_reviewer, reason="portrait unclear")
    assert case.status == CaseStatus.IN_REVIEW
    assert _last("case.returned_to_review").data["reason"] == "portrait unclear"


def test_reject_needs_a_known_reason_code_and_settles_documents(case, reviewer):
    document = document_add(case=case, document_type="hk_id_card", side="front", data=image_bytes(), actor=reviewer)
    with pytest.raises(KycError, match="at least one reason"):
        services.case_reject(case=case, actor=reviewer, reason_codes=[])
    with pytest.raises(KycError, match="unknown reason codes: looks_fake"):
        services.case_reject(case=case, actor=reviewer, reason_codes=["looks_fake"])
    case = services.case_reject(case=case, actor=reviewer, reason_codes=["suspected_tampering"])
    assert case.status == CaseStatus.REJECTED
    document.refresh_from_db()
    assert document.status == DocumentStatus.REJECTED
    assert _last("case.rejected").data["reason_codes"] == ["suspected_tampering"]


def test_closed_cases_never_change_again(case, reviewer):
    services.case_reject(case=case, actor=reviewer, reason_codes=["other"])
    with pytest.raises(InvalidTransition, match="from 'rejected' to 'in_review'"):
        services.case_start_review(case=case, actor=reviewer)
    with pytest.raises(InvalidTransition):
        services.case_approve(case=case, actor=reviewer)


def test_resubmission_then_reopen(case, reviewer):
    services.case_start_review(case=case, actor=None)
    case = services.case_request_resubmission(case=case, actor=reviewer, reason_codes=["poor_image_quality"])
    assert case.status == CaseStatus.RESUBMISSION_REQUESTED
    assert services.case_reopen(case=case, actor=None).status == CaseStatus.OPEN


def test_one_case_in_progress_per_applicant_and_re_verification_keeps_history(applicant, reviewer):
    first = services.case_open(applicant=applicant, actor=None)
    with pytest.raises(CaseConflict, match="already has a case in progress"):
        services.case_open(applicant=applicant, actor=None)
    services.case_reject(case=first, actor=reviewer, reason_codes=["document_expired"])
    second = services.case_open(applicant=applicant, actor=None)
    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == CaseStatus.REJECTED
    assert first.decisions.count() == 1


def test_duplicate_external_reference_is_refused(partner):
    services.applicant_create(partner=partner, external_ref="R-1", actor=None)
    with pytest.raises(CaseConflict, match="already has an applicant"):
        services.applicant_create(partner=partner, external_ref="R-1", actor=None)


def test_unknown_declared_fields_are_refused(partner):
    with pytest.raises(KycError, match="unknown declared fields: address"):
        services.applicant_create(partner=partner, external_ref="R-2", actor=None, declared={"address": "x"})


def test_assignment_and_notes_are_audited(case, reviewer):
    services.case_assign(case=case, reviewer=reviewer, actor=reviewer)
    note = services.note_add(case=case, actor=reviewer, body="Called the applicant; passport renewed.")
    assert _last("case.assigned").data == {"reviewer": "reviewer"}
    event = _last("case.note_added")
    assert event.object_id == str(note.pk)
    assert "passport" not in str(event.data)


def test_no_approval_while_a_document_is_being_read(case, reviewer):
    """A re-run (or any queued read) would change fields and checks after the decision."""
    case.applicant.partner.four_eyes = False
    case.applicant.partner.save()
    document = document_add(case=case, document_type="hk_id_card", side="front", data=image_bytes(), actor=reviewer)
    services.case_start_review(case=case, actor=None)
    for status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING):
        document_transition(document=document, to=status, actor=None)
        with pytest.raises(CaseConflict, match=r"still being read: .+ \(front\): ") as caught:
            services.case_approve(case=case, actor=reviewer)
        assert caught.value.code == "documents_being_read"
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_REVIEW
        assert not Decision.objects.filter(case=case).exists()
    document_transition(document=document, to=DocumentStatus.EXTRACTED, actor=None)
    assert services.case_approve(case=case, actor=reviewer).status == CaseStatus.APPROVED


def test_a_case_can_be_rejected_while_a_document_is_still_queued(case, reviewer):
    document = document_add(case=case, document_type="hk_id_card", side="front", data=image_bytes(), actor=reviewer)
    document_transition(document=document, to=DocumentStatus.QUEUED, actor=None)
    services.case_start_review(case=case, actor=None)
    case = services.case_reject(case=case, actor=reviewer, reason_codes=["document_expired"])
    assert case.status == CaseStatus.REJECTED
