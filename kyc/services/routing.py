"""What happens to a case once its documents are read: review (the default) or auto-approval.

Auto-approval needs the partner's consent and a spotless reading: every document extracted, every field
confident (>= 0.9, the offline engine's calibrated threshold), no check failed or warned, no vendor
warning. Every decision writes an audit event saying why.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch

from kyc.choices import CaseStatus, CheckResult, DocumentStatus
from kyc.models import Case, Document, ExtractedField, OcrAttempt
from kyc.services.cases import _case_transition, case_approve

CONFIDENT = 0.9
_FINAL_READ = {DocumentStatus.EXTRACTED, DocumentStatus.UNREADABLE, DocumentStatus.FAILED}


def _documents(case: Case, *, full: bool) -> list[Document]:
    """The case's documents; with ``full``, their current fields and applied attempts too."""
    documents = case.documents.only("id", "case_id", "document_type", "side", "status", "ocr_run")
    if not full:
        return list(documents)
    current = Prefetch(
        "fields",
        queryset=ExtractedField.objects.filter(is_current=True).only("document_id", "name", "confidence"),
        to_attr="current_fields",
    )
    applied = Prefetch(
        "ocr_attempts",
        queryset=OcrAttempt.objects.filter(applied=True).only("document_id", "run", "warnings"),
        to_attr="applied_attempts",
    )
    return list(documents.prefetch_related(current, applied))


def _failing_checks(case: Case) -> list[str]:
    checks = case.checks.filter(is_current=True).exclude(result__in=[CheckResult.PASS, CheckResult.NOT_AVAILABLE])
    return sorted({f"{code} ({result})" for code, result in checks.values_list("code", "result")})


def _blockers(case: Case, documents: list[Document]) -> list[str]:
    """Reasons this case cannot be auto-approved (empty when it can)."""
    reasons: list[str] = []
    for document in documents:
        if document.status != DocumentStatus.EXTRACTED:
            reasons.append(f"{document.get_document_type_display()} ({document.side}) is {document.status}")
    fields = [f for d in documents for f in d.current_fields]  # type: ignore[attr-defined]
    unsure = sorted({f.name for f in fields if f.confidence is None or f.confidence < CONFIDENT})
    if unsure:
        reasons.append(f"fields below {CONFIDENT} confidence: {', '.join(unsure)}")
    failing = _failing_checks(case)
    if failing:
        reasons.append(f"checks: {', '.join(failing)}")
    applied = [(d, a) for d in documents for a in d.applied_attempts]  # type: ignore[attr-defined]
    warned = sorted({w for d, a in applied if a.run == d.ocr_run for w in a.warnings})
    if warned:
        reasons.append(f"vendor warnings: {', '.join(warned)}")
    return reasons


def case_route(*, case_id: Any = None, locked: Case | None = None) -> str:
    """Route an open case whose documents are all read. Idempotent: anything else is left alone.
    ``locked``: the case, already row-locked in the caller's transaction with its applicant and partner
    loaded (the pipeline locks it together with the document), so it is not read again."""
    with transaction.atomic(savepoint=False):
        if locked is None:
            locked = Case.objects.select_for_update(of=("self",)).select_related("applicant__partner").get(pk=case_id)
        case = locked
        if case.status != CaseStatus.OPEN:
            return "not open"
        documents = _documents(case, full=case.applicant.partner.auto_approve)
        if not documents or any(d.status not in _FINAL_READ for d in documents):
            return "waiting for documents"
        return _route(case, documents)


def _route(case: Case, documents: list[Document]) -> str:
    if case.applicant.partner.auto_approve:
        blockers = _blockers(case, documents)
        if not blockers:
            case_approve(case=case, actor=None, comment="auto-approved by policy")
            return "auto-approved"
        why = "; ".join(blockers)
    else:
        failing = _failing_checks(case)
        why = "partner requires review" + (f"; checks: {', '.join(failing)}" if failing else "")
    case.routing_reason = why[:200]
    _case_transition(
        case,
        to=CaseStatus.IN_REVIEW,
        actor=None,
        action="case.routed_to_review",
        data={"reason": why[:500], "auto_approve_allowed": case.applicant.partner.auto_approve},
        also=("routing_reason",),
    )
    return "review"
