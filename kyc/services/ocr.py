"""The OCR pipeline: queue a document, claim it, call its provider inside the quota, apply the result
exactly once, retry with backoff, fall back, and recover from killed workers.

Job state lives in our rows, not in the queue (RELIABILITY.md 1.4): ``Document.status`` with
``ocr_run``/``ocr_next_at``/``ocr_lease_until``, and one ``OcrAttempt`` per vendor call, written
*before* the call. A task only carries a document id; running it twice is harmless because the claim
happens under a row lock and results are applied once per run (a unique constraint backs that up).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from kyc.choices import DocumentStatus, OcrOutcome
from kyc.exceptions import KycError
from kyc.models import Case, Document, OcrAttempt, ProviderState
from kyc.routing import RouteStep
from kyc.services.audit import audit_record
from kyc.services.documents import _document_set_status
from kyc.services.providers import (
    conf,
    forget_suspended,
    provider_for,
    provider_suspend,
    routes,
    suspended_providers,
    wait_for_quota,
)
from kyc.services.results import result_apply
from kyc.storage import private_storage
from ocr_providers import OcrError, OcrMisconfigured, OcrRejected, OcrRequest, OcrResult, OcrUnavailable
from ocr_providers.documents import DocumentType, Side

log = logging.getLogger(__name__)
TASK = "kyc.tasks.document_ocr_task"
SHORT_WAIT = 15.0  # a task sleeps this long at most for a document's next attempt; longer waits go to the sweeper
LOCAL_QUOTA_CODE = "local_quota_wait"  # our own limiter said "not now": no vendor call was made
LEASE_CLEARED: dict[str, Any] = {"ocr_lease_until": None}  # saved with every status change that ends a call
_UNREADABLE_CODES = {"unreadable", "not_a_document", "wrong_document_type", "image_unreadable", "blurry"}


# --- queueing -------------------------------------------------------------------------------------------


def _enqueue_on_commit(document_id: Any) -> None:
    transaction.on_commit(lambda: async_task(TASK, str(document_id), group="ocr"))


@transaction.atomic
def document_queue(*, document: Document, actor: User | None, reason: str = "") -> Document:
    """Queue a document for OCR. From extracted/unreadable/failed this is a re-run: a new run with new
    attempts; earlier attempts and their fields stay as history."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    rerun = document.status != DocumentStatus.RECEIVED
    _document_set_status(
        document,
        to=DocumentStatus.QUEUED,
        actor=actor,
        reason=reason or ("re-run" if rerun else ""),
        data={"run": document.ocr_run + 1},
        also={"ocr_run": document.ocr_run + 1, "ocr_next_at": timezone.now()},
    )
    _enqueue_on_commit(document.pk)
    return document


@transaction.atomic
def document_queue_all(*, case: Case, actor: User | None) -> int:
    """Queue every received document of a case."""
    documents = list(case.documents.filter(status=DocumentStatus.RECEIVED))
    for document in documents:
        document_queue(document=document, actor=actor)
    return len(documents)


# --- claiming -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    document_id: Any
    attempt_id: int
    run: int
    step: RouteStep
    document_type: str
    side: str
    image: str


def _attempt_rows(document: Document) -> list[tuple[int, int, int, str]]:
    """(run, route step, number, error code) of every attempt of the document: one small query serves
    both the attempt budget and the next attempt number."""
    return list(document.ocr_attempts.values_list("run", "route_step", "number", "error_code"))


def _budget_used(document: Document, rows: list[tuple[int, int, int, str]]) -> dict[int, int]:
    """Attempts used per route step in the current run (our own quota deferrals do not count)."""
    used: dict[int, int] = {}
    for run, step, _number, code in rows:
        if run == document.ocr_run and code != LOCAL_QUOTA_CODE:
            used[step] = used.get(step, 0) + 1
    return used


def next_step(document: Document, rows: list[tuple[int, int, int, str]] | None = None) -> tuple[int, RouteStep] | str:
    """The route step the next attempt should use; ``"wait"`` when the only steps left are suspended
    providers, ``"exhausted"`` when every step has used its attempts."""
    rows = _attempt_rows(document) if rows is None else rows
    suspended, waiting, used = suspended_providers(), False, _budget_used(document, rows)
    for index, step in enumerate(routes()[document.document_type]):
        if used.get(index, 0) >= conf()["max_attempts"]:
            continue
        if step.provider in suspended:
            waiting = True
            continue
        return index, step
    return "wait" if waiting else "exhausted"


def _lock(document_id: Any) -> Document | None:
    queryset = Document.objects.filter(pk=document_id)
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)  # another worker has it: not our turn
    else:
        queryset = queryset.select_for_update()
    return queryset.first()


def _take_over_if_lost(document: Document, now: Any) -> bool:
    """A document left in processing past its lease lost its worker: its in-flight attempt becomes
    ``unknown`` (the vendor may have answered and billed it) and the document is queued again."""
    if document.status != DocumentStatus.PROCESSING or not document.ocr_lease_until or document.ocr_lease_until > now:
        return False
    lost = list(OcrAttempt.objects.filter(document=document, outcome=OcrOutcome.SENT).values_list("number", flat=True))
    OcrAttempt.objects.filter(document=document, outcome=OcrOutcome.SENT).update(
        outcome=OcrOutcome.UNKNOWN,
        error_class="unknown",
        error_code="worker_lost",
        error_message="The worker stopped before the vendor's answer was recorded.",
        finished_at=now,
    )
    _document_set_status(
        document,
        to=DocumentStatus.QUEUED,
        actor=None,
        reason="worker lost; queued again",
        data={"unknown_attempts": lost},
    )
    return True


def _claim(document_id: Any) -> Claim | float | None:
    """Under the row lock: a Claim, seconds to wait for the next attempt, or None (nothing to do)."""
    with transaction.atomic():
        document = _lock(document_id)
        if document is None:
            return None
        now = timezone.now()
        _take_over_if_lost(document, now)
        if document.status == DocumentStatus.PROCESSING and document.ocr_lease_until:
            # Redelivered while another worker's lease runs (that worker may be dead): look again when
            # the lease ends, then take over, instead of leaving it all to the sweeper.
            return (document.ocr_lease_until - now).total_seconds()
        if document.status != DocumentStatus.QUEUED:
            return None
        if document.ocr_next_at and document.ocr_next_at > now:
            return (document.ocr_next_at - now).total_seconds()
        rows = _attempt_rows(document)
        choice = next_step(document, rows)
        if isinstance(choice, tuple):
            number = max((row[2] for row in rows), default=0) + 1
            return _start_attempt(document, *choice, number=number, now=now)
        if choice == "wait":
            Document.objects.filter(pk=document.pk).update(ocr_next_at=now + timedelta(minutes=5))
            return None
        _document_set_status(
            document, to=DocumentStatus.FAILED, actor=None, reason="every configured provider used its attempts"
        )
        _route_case(document)
        return None


def _start_attempt(document: Document, step_index: int, step: RouteStep, *, number: int, now: Any) -> Claim:
    attempt = OcrAttempt.objects.create(
        document=document,
        number=number,
        run=document.ocr_run,
        route_step=step_index,
        provider=step.provider,
        action=step.action,
    )
    _document_set_status(
        document,
        to=DocumentStatus.PROCESSING,
        actor=None,
        data={"attempt": number, "provider": str(step)},
        also={"ocr_lease_until": now + timedelta(seconds=conf()["lease_seconds"])},
    )
    return Claim(document.pk, attempt.pk, document.ocr_run, step, document.document_type, document.side, document.image)


# --- calling --------------------------------------------------------------------------------------------


def _request(claim: Claim) -> OcrRequest:
    with private_storage().open(claim.image, "rb") as handle:
        image = handle.read()
    action = "" if claim.step.action == "auto" else claim.step.action
    return OcrRequest(
        image=image, document_type=DocumentType(claim.document_type), side=Side(claim.side), action=action
    )


def _call(claim: Claim, request: OcrRequest) -> OcrResult | OcrError:
    try:
        return provider_for(claim.step.provider).recognize(request)
    except OcrError as error:
        return error
    except Exception as error:  # a provider bug must not lose the document; the type name is enough to debug
        log.exception("provider %s raised %s", claim.step.provider, type(error).__name__)
        return OcrUnavailable(f"the provider failed unexpectedly ({type(error).__name__})", code="provider_crashed")


def ocr_document_run(*, document_id: Any) -> str:
    """The task body. Returns a short status word (stored by django-q2; never personal data)."""
    for _ in range(3):
        claim = _claim(document_id)
        if not isinstance(claim, float):
            break
        if claim > SHORT_WAIT:
            return "deferred"
        time.sleep(claim)
    if claim is None or isinstance(claim, float):
        return "nothing to do"
    request = _request(claim)  # everything slow happens before the quota slot, so the call leaves on time
    waited = wait_for_quota(claim.step)
    if waited is None:
        return _finish(claim, OcrUnavailable("our own quota limiter deferred the call", code=LOCAL_QUOTA_CODE), 0)
    started = time.monotonic()
    outcome = _call(claim, request)
    return _finish(claim, outcome, int((time.monotonic() - started) * 1000), quota_wait_ms=int(waited * 1000))


# --- finishing ------------------------------------------------------------------------------------------


def _backoff(attempts: int, retry_after: float | None) -> float:
    """Full jitter (AWS), never shorter than the vendor's Retry-After."""
    settings = conf()
    ceiling = min(settings["backoff_cap"], settings["backoff_base"] * 2 ** max(attempts - 1, 0))
    return max(retry_after or 0.0, random.uniform(0, ceiling))


def _record_attempt(
    attempt: OcrAttempt, outcome: OcrResult | OcrError, latency_ms: int, quota_wait_ms: int, *, applied: bool
) -> None:
    attempt.latency_ms, attempt.quota_wait_ms, attempt.finished_at = latency_ms, quota_wait_ms, timezone.now()
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
    attempt.save(update_fields=fields)


def _finish(claim: Claim, outcome: OcrResult | OcrError, latency_ms: int, *, quota_wait_ms: int = 0) -> str:
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",)).select_related("case__applicant").get(pk=claim.document_id)
        )
        attempt = OcrAttempt.objects.select_for_update().get(pk=claim.attempt_id)
        stale = (
            attempt.outcome != OcrOutcome.SENT
            or document.status != DocumentStatus.PROCESSING
            or document.ocr_run != claim.run
        )
        _record_attempt(
            attempt, outcome, latency_ms, quota_wait_ms, applied=not stale and isinstance(outcome, OcrResult)
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
            return _finish_success(document, attempt, outcome)
        return _finish_error(document, attempt, outcome)


def _finish_success(document: Document, attempt: OcrAttempt, result: OcrResult) -> str:
    summary = result_apply(document=document, attempt=attempt, result=result)
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
    _route_case(document)
    return target


def _finish_error(document: Document, attempt: OcrAttempt, error: OcrError) -> str:
    if isinstance(error, OcrMisconfigured):
        provider_suspend(provider=attempt.provider, error=error)
        return _retry_later(document, attempt, delay=0.0, reason="provider suspended: configuration error")
    if isinstance(error, OcrRejected):
        target = DocumentStatus.UNREADABLE if error.code in _UNREADABLE_CODES else DocumentStatus.FAILED
        vendor = f" [{attempt.provider} {error.vendor_code}]" if error.vendor_code else f" [{attempt.provider}]"
        _document_set_status(
            document,
            to=target,
            actor=None,
            reason=f"{error.message}{vendor}",
            data={"attempt": attempt.number, "code": error.code},
            also=LEASE_CLEARED,
        )
        _route_case(document)
        return target
    used = _budget_used(document, _attempt_rows(document)).get(attempt.route_step, 0)
    return _retry_later(
        document,
        attempt,
        delay=_backoff(used, error.retry_after),
        reason=f"retryable error {error.code} from {attempt.provider}",
    )


def _retry_later(document: Document, attempt: OcrAttempt, *, delay: float, reason: str) -> str:
    if next_step(document) == "exhausted":
        _document_set_status(
            document,
            to=DocumentStatus.FAILED,
            actor=None,
            reason=f"{reason}; no attempts left on any provider",
            data={"attempt": attempt.number},
            also=LEASE_CLEARED,
        )
        _route_case(document)
        return DocumentStatus.FAILED
    _document_set_status(
        document,
        to=DocumentStatus.QUEUED,
        actor=None,
        reason=reason,
        data={"attempt": attempt.number, "retry_in_s": round(delay, 2)},
        also={**LEASE_CLEARED, "ocr_next_at": timezone.now() + timedelta(seconds=delay)},
    )
    if delay <= SHORT_WAIT:
        _enqueue_on_commit(document.pk)
    return "retry"


def _route_case(document: Document) -> None:
    """Route the case in the same transaction. Locks are taken document first, then case, everywhere, so
    two documents of one case finishing together serialise on the case row and the second sees the first."""
    from kyc.services.routing import case_route

    case_route(case_id=document.case_id)


# --- operators ------------------------------------------------------------------------------------------


@transaction.atomic
def provider_resume(*, provider: str, actor: User | None) -> None:
    state = ProviderState.objects.select_for_update().get(provider=provider)
    state.suspended, state.resumed_at = False, timezone.now()
    state.save(update_fields=["suspended", "resumed_at"])
    forget_suspended()
    audit_record(actor=actor, action="provider.resumed", obj=state, data={"provider": provider})
    waiting = Document.objects.filter(status=DocumentStatus.QUEUED).values_list("pk", flat=True)
    Document.objects.filter(pk__in=list(waiting)).update(ocr_next_at=timezone.now())
    for document_id in waiting:
        _enqueue_on_commit(document_id)


def ocr_sweep() -> dict[str, int]:
    """The reaper and dispatcher (scheduled every minute): re-queue documents whose worker was lost,
    and enqueue queued documents whose next attempt is due but whose task is gone or deferred."""
    now = timezone.now()
    lost = list(
        Document.objects.filter(status=DocumentStatus.PROCESSING, ocr_lease_until__lt=now).values_list("pk", flat=True)
    )
    for document_id in lost:
        with transaction.atomic():
            document = _lock(document_id)
            if document is not None and _take_over_if_lost(document, now):
                _enqueue_on_commit(document.pk)
    due = Document.objects.filter(status=DocumentStatus.QUEUED).filter(
        Q(ocr_next_at__lte=now) | Q(ocr_next_at__isnull=True), updated_at__lt=now - timedelta(seconds=30)
    )
    due_ids = list(due.values_list("pk", flat=True))
    for document_id in due_ids:
        async_task(TASK, str(document_id), group="ocr")
    return {"requeued_lost": len(lost), "dispatched": len(due_ids)}


def document_rerun(*, document: Document, actor: User) -> Document:
    """Staff re-run OCR: a new run with new attempts; the old attempts and fields stay."""
    if document.status not in {DocumentStatus.EXTRACTED, DocumentStatus.UNREADABLE, DocumentStatus.FAILED}:
        raise KycError(
            f"OCR can be re-run on extracted, unreadable or failed documents, not {document.status}",
            code="rerun_not_allowed",
        )
    return document_queue(document=document, actor=actor, reason="re-run requested")
