"""Case writes. ``_case_transition`` is the only code that assigns ``Case.status``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from kyc import rows
from kyc.choices import CaseStatus, DecisionKind, DocumentStatus, ReasonCode
from kyc.exceptions import CaseConflict, InvalidTransition, KycError
from kyc.models import Applicant, Case, Decision, Document, Note, Partner
from kyc.services.audit import actor_label, audit_record
from kyc.services.documents import _document_set_status
from kyc.workflow import CASE_TERMINAL, case_can_transition, document_can_transition


def partner_create(
    *, name: str, slug: str, auto_approve: bool = False, four_eyes: bool = True, actor: User | None
) -> Partner:
    with transaction.atomic():
        partner = Partner.objects.create(name=name, slug=slug, auto_approve=auto_approve, four_eyes=four_eyes)
        audit_record(
            actor=actor,
            action="partner.created",
            obj=partner,
            data={"slug": slug, "auto_approve": auto_approve, "four_eyes": four_eyes},
        )
    return partner


def applicant_create(
    *, partner: Partner, external_ref: str, actor: User | None, declared: dict[str, str] | None = None
) -> Applicant:
    """Create an applicant; ``declared`` may hold name_zh, name_en, birth_date (ISO), nationality."""
    declared = declared or {}
    unknown = set(declared) - {"name_zh", "name_en", "birth_date", "nationality"}
    if unknown:
        raise KycError(f"unknown declared fields: {', '.join(sorted(unknown))}", code="invalid_declared_data")
    try:
        with transaction.atomic():
            applicant = Applicant.objects.create(
                partner=partner,
                external_ref=external_ref,
                **{f"declared_{key}": value or None for key, value in declared.items()},
            )
            audit_record(
                actor=actor,
                action="applicant.created",
                obj=applicant,
                data={"partner": partner.slug, "declared": sorted(declared)},
            )
    except IntegrityError:
        raise CaseConflict(
            f"{partner.slug} already has an applicant {external_ref!r}", code="duplicate_applicant"
        ) from None
    return applicant


def case_open(*, applicant: Applicant, actor: User | None) -> Case:
    """Open a new verification case; an applicant can have only one case in progress."""
    try:
        with transaction.atomic():
            case = Case.objects.create(applicant=applicant)
            audit_record(actor=actor, action="case.opened", obj=case, case_id=case.pk, data={"status": case.status})
    except IntegrityError:
        raise CaseConflict("this applicant already has a case in progress", code="case_in_progress") from None
    return case


def _case_transition(
    case: Case,
    *,
    to: str,
    actor: User | None,
    action: str,
    data: dict[str, Any] | None = None,
    also: tuple[str, ...] = (),
) -> None:
    """Assign the status (the caller holds the row lock), save it with the ``also`` fields the caller
    set, and record the event."""
    current = case.status
    if not case_can_transition(current, to):
        raise InvalidTransition("case", current, to)
    case.status = to
    fields = ["status", "updated_at", *also]
    if to in CASE_TERMINAL:
        case.closed_at = timezone.now()
        fields.append("closed_at")
    rows.update_row(case, fields, locked=True)
    audit_record(
        actor=actor, action=action, obj=case, case_id=case.pk, data={"from": current, "to": to, **(data or {})}
    )


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _locked_with_documents(case: Case) -> tuple[Case, list[Document]]:
    """For a decision that settles the case's documents: their rows first (in id order), then the case,
    the order the pipeline takes them in (a finishing document locks itself, then its case). Taking the
    case first would deadlock with a document whose finish holds its row and waits for the case."""
    documents = list(
        Document.objects.select_for_update()
        .filter(case_id=case.pk)
        .order_by("pk")
        .only("pk", "case_id", "document_type", "side", "status")
    )
    return _locked(case), documents


def _refuse_while_being_read(documents: list[Document]) -> None:
    """An approval must see every document's final reading: a document queued or being read (a re-run,
    say) would change fields and checks after the decision. Rejecting or asking for resubmission needs
    no reading and stays possible, so a vendor outage never holds a rejection up."""
    pending = [d for d in documents if d.status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING)]
    if pending:
        which = ", ".join(f"{d.get_document_type_display()} ({d.side}): {d.get_status_display()}" for d in pending)
        raise CaseConflict(
            f"approve once OCR has finished reading the case's documents; still being read: {which}",
            code="documents_being_read",
        )


@transaction.atomic
def case_start_review(*, case: Case, actor: User | None, reason: str = "") -> Case:
    """Send an open case to review (the routing policy or a reviewer does this)."""
    case = _locked(case)
    case.routing_reason = reason[:200] or case.routing_reason
    _case_transition(
        case,
        to=CaseStatus.IN_REVIEW,
        actor=actor,
        action="case.review_started",
        data={"reason": reason[:200]},
        also=("routing_reason",),
    )
    return case


@transaction.atomic
def case_assign(*, case: Case, reviewer: User | None, actor: User | None) -> Case:
    case = _locked(case)
    if case.is_terminal:
        raise InvalidTransition("case", case.status, "assigned")
    case.assigned_to = reviewer
    case.save(update_fields=["assigned_to", "updated_at"])
    audit_record(
        actor=actor,
        action="case.assigned",
        obj=case,
        case_id=case.pk,
        data={"reviewer": actor_label(reviewer) if reviewer else None},
    )
    return case


def _decide(case: Case, *, kind: str, actor: User | None, reason_codes: Sequence[str], comment: str) -> Decision:
    invalid = [code for code in reason_codes if code not in ReasonCode.values]
    if invalid:
        raise KycError(f"unknown reason codes: {', '.join(invalid)}", code="invalid_reason_code")
    return Decision.objects.create(
        case=case,
        kind=kind,
        reason_codes=list(reason_codes),
        comment=comment,
        actor=actor if actor is not None and actor.pk else None,
        actor_repr=actor_label(actor),
    )


def _settle_documents(case: Case, *, to: str, actor: User | None) -> None:
    for document in case.documents.select_for_update().order_by("created_at"):
        if document_can_transition(document.status, to):
            _document_set_status(document, to=to, actor=actor, reason="case decision")


@transaction.atomic
def case_approve(
    *,
    case: Case,
    actor: User | None,
    reason_codes: Sequence[str] = (ReasonCode.VERIFIED,),
    comment: str = "",
) -> Case:
    """Approve. With four-eyes on, the first approval waits for a second, different reviewer."""
    case, documents = _locked_with_documents(case)
    _refuse_while_being_read(documents)
    needs_second = case.applicant.partner.four_eyes and actor is not None
    if case.status == CaseStatus.AWAITING_SECOND_APPROVAL:
        first = case.decisions.filter(kind=DecisionKind.APPROVE).order_by("-created_at").first()
        if first is None or actor is None or first.actor_id == actor.pk:
            raise CaseConflict("the second approval must come from a different reviewer", code="four_eyes")
        kind, target = DecisionKind.SECOND_APPROVE, CaseStatus.APPROVED
    else:
        kind = DecisionKind.APPROVE
        target = CaseStatus.AWAITING_SECOND_APPROVAL if needs_second else CaseStatus.APPROVED
    if not case_can_transition(case.status, target):
        raise InvalidTransition("case", case.status, target)
    decision = _decide(case, kind=kind, actor=actor, reason_codes=reason_codes, comment=comment)
    action = "case.approved" if target == CaseStatus.APPROVED else "case.first_approved"
    _case_transition(
        case,
        to=target,
        actor=actor,
        action=action,
        data={"decision_id": decision.pk, "reason_codes": list(reason_codes)},
    )
    if target == CaseStatus.APPROVED:
        _settle_documents(case, to=DocumentStatus.APPROVED, actor=actor)
    return case


# What a closing decision that needs no reading does to the case's documents: to each one it can move,
# then, and to one being read then once its answer is in (document_follow_decision).
_DOCUMENTS_AFTER: dict[str, str] = {
    CaseStatus.REJECTED: DocumentStatus.REJECTED,
    CaseStatus.RESUBMISSION_REQUESTED: DocumentStatus.RESUBMISSION_REQUESTED,
}


def document_follow_decision(document: Document, case_status: str | None) -> bool:
    """Settle ``document`` (locked; just read, or about to be read again) as its case's rejection or request
    for resubmission settled the others, when that decision was made while it was being read: a document
    being processed cannot move then. True when it did (it is then not to be read again)."""
    to = _DOCUMENTS_AFTER.get(case_status or "")
    if to is None or not document_can_transition(document.status, to):
        return False
    _document_set_status(document, to=to, actor=None, reason="case decision, made while the document was being read")
    return True


def _decide_and_close(
    case: Case,
    *,
    kind: str,
    to: str,
    action: str,
    actor: User | None,
    reason_codes: Sequence[str],
    comment: str,
) -> Case:
    """Record a decision that needs reasons, move the case, and settle its documents the same way."""
    if not reason_codes:
        raise KycError("this decision needs at least one reason code", code="reason_required")
    case, _ = _locked_with_documents(case)
    if not case_can_transition(case.status, to):
        raise InvalidTransition("case", case.status, to)
    decision = _decide(case, kind=kind, actor=actor, reason_codes=reason_codes, comment=comment)
    _case_transition(
        case, to=to, actor=actor, action=action,
        data={"decision_id": decision.pk, "reason_codes": list(reason_codes)},
    )  # fmt: skip
    _settle_documents(case, to=_DOCUMENTS_AFTER[to], actor=actor)
    return case


@transaction.atomic
def case_reject(*, case: Case, actor: User | None, reason_codes: Sequence[str], comment: str = "") -> Case:
    """Reject with at least one reason code; final."""
    return _decide_and_close(
        case, kind=DecisionKind.REJECT, to=CaseStatus.REJECTED, action="case.rejected",
        actor=actor, reason_codes=reason_codes, comment=comment,
    )  # fmt: skip


@transaction.atomic
def case_request_resubmission(
    *, case: Case, actor: User | None, reason_codes: Sequence[str], comment: str = ""
) -> Case:
    """Ask for new documents, with at least one reason code; the case reopens when they arrive."""
    return _decide_and_close(
        case, kind=DecisionKind.REQUEST_RESUBMISSION, to=CaseStatus.RESUBMISSION_REQUESTED,
        action="case.resubmission_requested", actor=actor, reason_codes=reason_codes, comment=comment,
    )  # fmt: skip


@transaction.atomic
def case_reopen(*, case: Case, actor: User | None) -> Case:
    """New documents arrived after a resubmission request: the case is open again."""
    case = _locked(case)
    _case_transition(case, to=CaseStatus.OPEN, actor=actor, action="case.reopened")
    return case


@transaction.atomic
def case_return_to_review(*, case: Case, actor: User | None, reason: str = "") -> Case:
    """The second reviewer sends a case back instead of approving it."""
    case = _locked(case)
    _case_transition(
        case, to=CaseStatus.IN_REVIEW, actor=actor, action="case.returned_to_review", data={"reason": reason[:200]}
    )
    return case


@transaction.atomic
def note_add(*, case: Case, actor: User, body: str) -> Note:
    note = Note.objects.create(case=case, author=actor, body=body)
    audit_record(actor=actor, action="case.note_added", obj=note, case_id=case.pk, data={"length": len(body)})
    return note
