"""What happens to a case once its documents are read: review (the default) or auto-approval.

Auto-approval needs the partner's consent and a spotless reading: every document extracted, every field
confident (>= 0.9, the offline engine's calibrated threshold), no check failed or warned, no vendor
warning. Every decision writes an audit event saying why.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kyc.choices import CaseStatus, CheckResult, DocumentStatus
from kyc.models import Case
from kyc.services.cases import _case_transition, case_approve

CONFIDENT = 0.9
_FINAL_READ = {DocumentStatus.EXTRACTED, DocumentStatus.UNREADABLE, DocumentStatus.FAILED}


def _blockers(case: Case) -> list[str]:
    """Reasons this case cannot be auto-approved (empty when it can)."""
    reasons: list[str] = []
    documents = list(case.documents.all())
    for document in documents:
        if document.status != DocumentStatus.EXTRACTED:
            reasons.append(f"{document.get_document_type_display()} ({document.side}) is {document.status}")
    fields = [f for d in documents for f in d.fields.filter(is_current=True)]
    unsure = sorted({f.name for f in fields if f.confidence is None or f.confidence < CONFIDENT})
    if unsure:
        reasons.append(f"fields below {CONFIDENT} confidence: {', '.join(unsure)}")
    checks = case.checks.filter(is_current=True).exclude(result__in=[CheckResult.PASS, CheckResult.NOT_AVAILABLE])
    failing = sorted({f"{c.code} ({c.result})" for c in checks})
    if failing:
        reasons.append(f"checks: {', '.join(failing)}")
    warned = sorted({w for d in documents for a in d.ocr_attempts.filter(applied=True, run=d.ocr_run) for w in a.warnings})
    if warned:
        reasons.append(f"vendor warnings: {', '.join(warned)}")
    return reasons


@transaction.atomic
def case_route(*, case_id: Any) -> str:
    """Route an open case whose documents are all read. Idempotent: anything else is left alone."""
    case = Case.objects.select_for_update().select_related("applicant__partner").get(pk=case_id)
    if case.status != CaseStatus.OPEN:
        return "not open"
    if not case.documents.exists() or case.documents.exclude(status__in=_FINAL_READ).exists():
        return "waiting for documents"
    blockers = _blockers(case)
    if case.applicant.partner.auto_approve and not blockers:
        case_approve(case=case, actor=None, comment="auto-approved by policy")
        return "auto-approved"
    why = "partner requires review" if not blockers else "; ".join(blockers)
    if not case.applicant.partner.auto_approve and blockers:
        why = f"partner requires review; {why}"
    case.routing_reason = why[:200]
    case.save(update_fields=["routing_reason"])
    _case_transition(case, to=CaseStatus.IN_REVIEW, actor=None, action="case.routed_to_review",
                     data={"reason": why[:500], "auto_approve_allowed": case.applicant.partner.auto_approve})
    return "review"
