"""What happens to a case once its documents are read: review (the default) or auto-approval.

Auto-approval needs the partner's consent and a spotless reading: every document extracted, every field
confident (>= 0.9, the offline engine's calibrated threshold), no check failed or warned, no vendor
warning. Every decision writes an audit event saying why.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects

from kyc.choices import CaseStatus, CheckResult, DocumentStatus
from kyc.models import Case, Check, Document, ExtractedField, OcrAttempt
from kyc.rows import column, fetch_together, instances, param, table
from kyc.services.cases import _case_transition, case_approve

CONFIDENT = 0.9
_FINAL_READ = {DocumentStatus.EXTRACTED, DocumentStatus.UNREADABLE, DocumentStatus.FAILED}


# Routing runs at the end of every OCR job: its two reads are statements built once per process.
_DOCUMENT_FIELDS = ("id", "case", "document_type", "side", "status", "ocr_run")


@cache
def _documents_sql() -> str:
    columns = ", ".join(column(Document, name, "d") for name in _DOCUMENT_FIELDS)
    return (
        f"SELECT {columns} FROM {table(Document)} d WHERE {column(Document, 'case', 'd')} = %s "  # noqa: S608
        f"ORDER BY {column(Document, 'created_at', 'd')}, {column(Document, 'id', 'd')}"
    )


@cache
def _failing_sql() -> str:
    code, result = column(Check, "code", "k"), column(Check, "result", "k")
    return (
        f"SELECT DISTINCT {code}, {result} FROM {table(Check)} k WHERE {column(Check, 'case', 'k')} = %s "  # noqa: S608
        f"AND {column(Check, 'is_current', 'k')} = %s AND {result} NOT IN (%s, %s)"
    )


@cache
def _failing_marked_sql() -> str:
    """``_failing_sql`` with each row marked whether it is a given document's own check."""
    code, result, document = column(Check, "code", "k"), column(Check, "result", "k"), column(Check, "document", "k")
    return (
        f"SELECT DISTINCT {code}, {result}, COALESCE({document} = %s, FALSE) FROM {table(Check)} k "  # noqa: S608
        f"WHERE {column(Check, 'case', 'k')} = %s AND {column(Check, 'is_current', 'k')} = %s "
        f"AND {result} NOT IN (%s, %s)"
    )


def routing_reads(case_id: Any, document_id: Any) -> list[tuple[str, list[Any]]]:
    """The routing's two reads of a case, for a job's finish to send with its lock read, before it writes
    anything: after the document's and the case's row locks (the statements run in order), nothing that
    routing reads can change until the commit but the job's own document, whose status and checks
    ``routing_after`` puts in. The routing then needs no round trip of its own."""
    failing = [
        param(Check, "document", document_id),
        param(Check, "case", case_id),
        True,
        CheckResult.PASS.value,
        CheckResult.NOT_AVAILABLE.value,
    ]
    return [(_documents_sql(), [param(Document, "case", case_id)]), (_failing_marked_sql(), failing)]


def routing_after(
    rows: list[list[tuple[Any, ...]]], document: Document, checks: list[Any] | None
) -> tuple[list[Document], list[str]]:
    """What ``routing_reads`` would have read after the finish's writes: ``document`` with its new status,
    and, when the finish stored ``checks`` (each with ``code`` and ``result``), those as its current
    checks in place of the ones it had (``None``: it stored none, so its current checks stand)."""
    documents_rows, failing_rows = rows
    read: list[Document] = instances(Document, _DOCUMENT_FIELDS, documents_rows)
    documents = [document if found.pk == document.pk else found for found in read]  # the finish's, as it is now
    own = {(code, result) for code, result, mine in failing_rows if mine}
    if checks is not None:
        passing = (CheckResult.PASS.value, CheckResult.NOT_AVAILABLE.value)
        own = {(check.code, check.result) for check in checks if check.result not in passing}
    others = {(code, result) for code, result, mine in failing_rows if not mine}
    return documents, sorted(f"{code} ({result})" for code, result in others | own)


def _read(case: Case, *, full: bool) -> tuple[list[Document], list[str]]:
    """The case's documents, oldest first (with ``full``, their current fields and applied attempts too),
    and its failing checks: the two reads in one round trip where the database allows it."""
    documents_rows, failing_rows = fetch_together(
        [(_documents_sql(), [param(Document, "case", case.pk)]), _failing(case)]
    )
    failing = sorted(f"{code} ({result})" for code, result in failing_rows)
    return _documents(documents_rows, full=full), failing


def _documents(rows: list[tuple[Any, ...]], *, full: bool) -> list[Document]:
    return _loaded(instances(Document, _DOCUMENT_FIELDS, rows), full=full)


def _loaded(documents: list[Document], *, full: bool) -> list[Document]:
    """With ``full``, each document's current fields and applied attempts loaded (read now)."""
    if not full:
        return documents
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
    prefetch_related_objects(documents, current, applied)
    return documents


def _failing(case: Case) -> tuple[str, list[Any]]:
    """The read of the case's current checks that failed or warned (``code (result)`` once sorted)."""
    return _failing_sql(), [
        param(Check, "case", case.pk),
        True,
        CheckResult.PASS.value,
        CheckResult.NOT_AVAILABLE.value,
    ]


def _blockers(documents: list[Document], failing: list[str]) -> list[str]:
    """Reasons this case cannot be auto-approved (empty when it can)."""
    reasons: list[str] = []
    for document in documents:
        if document.status != DocumentStatus.EXTRACTED:
            reasons.append(f"{document.get_document_type_display()} ({document.side}) is {document.status}")
    fields = [f for d in documents for f in d.current_fields]  # type: ignore[attr-defined]
    unsure = sorted({f.name for f in fields if f.confidence is None or f.confidence < CONFIDENT})
    if unsure:
        reasons.append(f"fields below {CONFIDENT} confidence: {', '.join(unsure)}")
    if failing:
        reasons.append(f"checks: {', '.join(failing)}")
    applied = [(d, a) for d in documents for a in d.applied_attempts]  # type: ignore[attr-defined]
    warned = sorted({w for d, a in applied if a.run == d.ocr_run for w in a.warnings})
    if warned:
        reasons.append(f"vendor warnings: {', '.join(warned)}")
    return reasons


def case_route(
    *, case_id: Any = None, locked: Case | None = None, known: tuple[list[Document], list[str]] | None = None
) -> str:
    """Route an open case whose documents are all read. Idempotent: anything else is left alone.
    ``locked``: the case, already row-locked in the caller's transaction with its applicant and partner
    loaded (the pipeline locks it together with the document), so it is not read again. ``known``: its
    documents and failing checks as the caller read them under that lock (``routing_after``)."""
    with transaction.atomic(savepoint=False):
        if locked is None:
            locked = Case.objects.select_for_update(of=("self",)).select_related("applicant__partner").get(pk=case_id)
        case = locked
        if case.status != CaseStatus.OPEN:
            return "not open"
        full = case.applicant.partner.auto_approve
        documents, failing = _read(case, full=full) if known is None else (_loaded(known[0], full=full), known[1])
        if not documents or any(d.status not in _FINAL_READ for d in documents):
            return "waiting for documents"
        return _route(case, documents, failing)


def _route(case: Case, documents: list[Document], failing: list[str]) -> str:
    if case.applicant.partner.auto_approve:
        blockers = _blockers(documents, failing)
        if not blockers:
            case_approve(case=case, actor=None, comment="auto-approved by policy")
            return "auto-approved"
        why = "; ".join(blockers)
    else:
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
