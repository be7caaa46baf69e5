"""Applying a vendor's answer, once: under the document's and its case's row locks, record the attempt,
store the result and our checks and route the case (kyc.services.results, kyc.services.routing), or
retry with backoff, fall back, or settle the document with the vendor's reason. A claimed call's
``Claim`` carries what the finish needs, so it reads nothing but the locked rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from itertools import pairwise
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kyc.choices import DocumentStatus, OcrOutcome
from kyc.models import Applicant, Case, Document, OcrAttempt, Partner
from kyc.routing import RouteStep
from kyc.rows import column, deferred_writes, param, select_list, split_row, table, update_row
from kyc.services import ocr_queue
from kyc.services.audit import audit_batch, audit_record, fetch_then_chain
from kyc.services.cases import document_follow_decision
from kyc.services.documents import _document_set_status
from kyc.services.duplicates import holders
from kyc.services.ocr_queue import SHORT_WAIT, attempt_rows, budget_used, next_step
from kyc.services.providers import conf, provider_suspend
from kyc.services.results import result_apply, result_checks, result_duplicate_read
from kyc.services.routing import routing_after, routing_reads
from ocr_providers import UNREADABLE_CODES, OcrError, OcrMisconfigured, OcrRejected, OcrResult

LEASE_CLEARED: dict[str, Any] = {"ocr_lease_until": None}  # saved with every status change that ends a call


@dataclass(frozen=True)
class Claim:
    """A claimed vendor call: what its finish needs to know, so the finish reads only the locked rows."""

    document_id: Any
    attempt_id: int
    run: int
    step: RouteStep
    document_type: str
    side: str
    image: str
    number: int  # the attempt's number and route step, so finishing needs no read of it
    step_index: int
    lease: Any  # the lease this claim set: another claim's lease means the document moved on
    case_id: Any  # the document's case: the finish locks its audit chain and reads what routing needs ahead


# The finish's read: each model with its alias and the foreign key of the one before it that leads to it.
_FINISH_JOIN = ((Document, "d", ""), (Case, "c", "case"), (Applicant, "a", "applicant"), (Partner, "p", "partner"))


@cache
def _finish_sql() -> str:
    """The document with its case, applicant and partner, the document and the case row-locked in that
    order (PostgreSQL locks the rows in the order the FOR UPDATE OF list names them): document first,
    then case, the order case decisions take them in too (kyc.services.cases._locked_with_documents)."""
    joins = "".join(
        f" JOIN {table(model)} {alias} ON {column(model, 'id', alias)} = {column(parent, key, up)}"
        for (parent, up, _), (model, alias, key) in pairwise(_FINISH_JOIN)
    )
    columns = ", ".join(select_list(model, alias) for model, alias, _ in _FINISH_JOIN)
    sql = (
        f"SELECT {columns} FROM {table(Document)} d{joins} "  # noqa: S608
        f"WHERE {column(Document, 'id', 'd')} = %s"
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF d, c"
    return sql


def _lock_for_finish(
    document_id: Any, case_id: Any, reads: Sequence[tuple[str, Sequence[Any]]] = ()
) -> tuple[Document, list[list[tuple[Any, ...]]]]:
    """The document and its case, locked, with the case's applicant and partner loaded (for the checks and
    the routing at the end), in one statement; and the rows of ``reads``, sent with it, and the audit
    chain's lock and head after them (one round trip: kyc.services.audit.fetch_then_chain), so the
    finish's events need no round trip of their own."""
    locked, *rows = fetch_then_chain([(_finish_sql(), [param(Document, "id", document_id)]), *reads], case_id)
    if not locked:
        raise Document.DoesNotExist(f"document {document_id} is gone")
    document, case, applicant, partner = split_row(locked[0], [model for model, _, _ in _FINISH_JOIN])
    applicant.partner, case.applicant, document.case = partner, applicant, case  # type: ignore[attr-defined]
    return document, rows  # type: ignore[return-value]


def _backoff(attempts: int, retry_after: float | None) -> float:
    """Full jitter (AWS), never shorter than the vendor's Retry-After."""
    settings = conf()
    ceiling = min(settings["backoff_cap"], settings["backoff_base"] * 2 ** max(attempts - 1, 0))
    return max(retry_after or 0.0, random.uniform(0, ceiling))


def _record_attempt(
    attempt: OcrAttempt,
    outcome: OcrResult | OcrError,
    latency_ms: int,
    quota_wait_ms: int,
    *,
    applied: bool,
    finished_at: Any,
) -> None:
    attempt.latency_ms, attempt.quota_wait_ms, attempt.finished_at = latency_ms, quota_wait_ms, finished_at
    attempt.applied = applied  # the one_applied_per_run constraint refuses a second application here
    fields = [
        "latency_ms",
        "quota_wait_ms",
        "finished_at",
        "applied",
        "outcome",
        "vendor_request_id",
        "error_class",
        "error_code",
        "vendor_code",
        "error_message",
        "warnings",
        "raw_response",
    ]
    if isinstance(outcome, OcrError):
        attempt.outcome = {
            "retryable": OcrOutcome.RETRYABLE_ERROR,
            "final": OcrOutcome.FINAL_ERROR,
            "configuration": OcrOutcome.CONFIG_ERROR,
        }.get(outcome.kind, OcrOutcome.RETRYABLE_ERROR)
        if outcome.code == "unknown_outcome":
            attempt.outcome = OcrOutcome.UNKNOWN
        attempt.vendor_request_id = outcome.request_id[:128]
        attempt.error_class, attempt.error_code = outcome.kind, outcome.code[:64]
        attempt.vendor_code, attempt.error_message = outcome.vendor_code[:128], outcome.message[:500]
    else:
        attempt.outcome, attempt.vendor_request_id = OcrOutcome.SUCCEEDED, outcome.request_id[:128]
        attempt.warnings, attempt.raw_response = list(outcome.warnings), dict(outcome.raw)
    # The attempt's row is never deleted, and every change to it happens under its document's lock, which
    # the finish holds: the update needs no answer checked, and may go out with the COMMIT.
    update_row(attempt, fields, locked=True)


def finish(claim: Claim, outcome: OcrResult | OcrError, latency_ms: int, *, quota_wait_ms: int = 0) -> str:
    # Two round trips, the BEGIN in the first. Everything the finish reads goes with its row locks: the
    # checks' one read (the duplicate lookup, known from the answer alone), routing's reads of the case,
    # and the audit chain's lock and head (held from there to the commit, taken after the row locks, as
    # everywhere). Every write (attempt, fields, portrait, checks, statuses, the case's routing, the audit
    # events) then goes out with the COMMIT (kyc.rows.deferred_writes, kyc.services.audit.audit_batch).
    duplicate = (
        result_duplicate_read(claim.document_type, claim.side, claim.document_id, outcome)
        if isinstance(outcome, OcrResult)
        else None
    )
    reads = [duplicate[1]] if duplicate else []
    # Routing's reads of the case go with the lock too (after it: the rows they read cannot change under
    # the case's lock but for this document, whose new status and checks the finish puts in).
    routing = routing_reads(claim.case_id, claim.document_id) if isinstance(outcome, OcrResult) else []
    with transaction.atomic(), deferred_writes(commit=True), audit_batch():
        # The case is locked in the same statement, after the document, for routing at the end.
        document, read = _lock_for_finish(claim.document_id, claim.case_id, reads + routing)
        known = {duplicate[0]: holders(read[0])} if duplicate else {}
        routed = read[len(reads) :] if routing else None
        finished_at = timezone.now()  # the attempt's end: its answer is in and its document locked
        # Every change to an attempt happens under its document's lock, so the attempt needs no read: a
        # takeover always moves the document on (a status change, then a new claim's lease).
        attempt = OcrAttempt(
            pk=claim.attempt_id,
            document_id=claim.document_id,
            number=claim.number,
            run=claim.run,
            route_step=claim.step_index,
            provider=claim.step.provider,
            action=claim.step.action,
        )
        attempt._state.adding = False
        stale = (
            document.status != DocumentStatus.PROCESSING
            or document.ocr_run != claim.run
            or document.ocr_lease_until != claim.lease
        )
        # The checks before any write (their read is in), so the writes go out together.
        checked = result_checks(document, outcome, known=known) if isinstance(outcome, OcrResult) and not stale else []
        _record_attempt(
            attempt,
            outcome,
            latency_ms,
            quota_wait_ms,
            applied=not stale and isinstance(outcome, OcrResult),
            finished_at=finished_at,
        )
        if stale:  # the lease expired and someone else took over: keep the record, change nothing else
            audit_record(
                actor=None,
                action="document.ocr_late_answer",
                obj=attempt,
                case_id=document.case_id,
                data={"attempt": attempt.number},
            )
            return "stale"
        document.ocr_lease_until = None  # saved with the status change that every path below makes
        if isinstance(outcome, OcrResult):
            return _finish_success(document, attempt, outcome, checked, routed)
        return _finish_error(document, attempt, outcome)


def _finish_success(
    document: Document,
    attempt: OcrAttempt,
    result: OcrResult,
    checked: list[Any],
    routed: list[list[tuple[Any, ...]]] | None = None,
) -> str:
    summary = result_apply(document=document, attempt=attempt, result=result, checked=checked)
    target = DocumentStatus.EXTRACTED if summary["fields"] else DocumentStatus.UNREADABLE
    reason = "" if summary["fields"] else "the provider found no document fields in the image"
    _document_set_status(
        document,
        to=target,
        actor=None,
        reason=reason,
        data=summary,
        also={**LEASE_CLEARED, "detected_type": document.detected_type},
    )
    # the checks stored replace the document's current ones; with no field found, none were stored
    known = routing_after(routed, document, checked if summary["fields"] else None) if routed is not None else None
    route_case(document, case_locked=True, known=known)
    return target


def _finish_error(document: Document, attempt: OcrAttempt, error: OcrError) -> str:
    if isinstance(error, OcrMisconfigured):
        provider_suspend(provider=attempt.provider, error=error)
        return _retry_later(document, attempt, delay=0.0, reason="provider suspended: configuration error")
    if isinstance(error, OcrRejected):
        target = DocumentStatus.UNREADABLE if error.code in UNREADABLE_CODES else DocumentStatus.FAILED
        vendor = f" [{attempt.provider} {error.vendor_code}]" if error.vendor_code else f" [{attempt.provider}]"
        _document_set_status(
            document,
            to=target,
            actor=None,
            reason=f"{error.message}{vendor}",
            data={"attempt": attempt.number, "code": error.code},
            also=LEASE_CLEARED,
        )
        route_case(document, case_locked=True)
        return target
    used = budget_used(document, attempt_rows(document)).get(attempt.route_step, 0)
    return _retry_later(
        document,
        attempt,
        delay=_backoff(used, error.retry_after),
        reason=f"retryable error {error.code} from {attempt.provider}",
    )


def _retry_later(document: Document, attempt: OcrAttempt, *, delay: float, reason: str) -> str:
    choice = next_step(document)
    if choice == "exhausted":
        _document_set_status(
            document,
            to=DocumentStatus.FAILED,
            actor=None,
            reason=f"{reason}; no attempts left on any provider",
            data={"attempt": attempt.number},
            also=LEASE_CLEARED,
        )
        route_case(document, case_locked=True)
        return DocumentStatus.FAILED
    soon = delay <= SHORT_WAIT  # later retries get their task from the sweeper when due
    _document_set_status(
        document,
        to=DocumentStatus.QUEUED,
        actor=None,
        reason=reason,
        data={"attempt": attempt.number, "retry_in_s": round(delay, 2)},
        also={**LEASE_CLEARED, "ocr_next_at": timezone.now() + timedelta(seconds=delay), "ocr_task_queued": soon},
    )
    if document_follow_decision(document, document.case.status):  # no vendor call for a decided case
        return document.status
    if soon:
        ocr_queue.enqueue_on_commit(document.pk, delay, step=choice[1] if isinstance(choice, tuple) else None)
    return "retry"


def route_case(
    document: Document, *, case_locked: bool = False, known: tuple[list[Document], list[str]] | None = None
) -> None:
    """Route the case in the same transaction. Locks are taken document first, then case, everywhere, so
    two documents of one case finishing together serialise on the case row and the second sees the first.
    ``case_locked``: ``document.case`` was locked with the document (``finish``); ``known``: what routing
    reads, read with those locks (kyc.services.routing.routing_after). A case decided while the document
    was being read is not routed: the document follows the decision."""
    from kyc.services.routing import case_route

    if document_follow_decision(document, document.case.status if case_locked else case_status(document)):
        return
    case_route(case_id=document.case_id, locked=document.case if case_locked else None, known=known)


def case_status(document: Document) -> str | None:
    # Unlocked: a decision locks the case's documents (this one is ours) before it changes the case.
    return Case.objects.filter(pk=document.case_id).values_list("status", flat=True).first()
