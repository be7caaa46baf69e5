"""The OCR job: look at a queued document, reserve a quota slot, claim the document under its row lock,
call its provider on the slot, and hand the answer to kyc.services.ocr_finish (applied exactly once,
retried with backoff, fallen back); and the reaper that recovers documents whose worker was killed.
Queueing a document, its next route step and re-runs are kyc.services.ocr_queue.

Job state lives in our rows, not in the queue (RELIABILITY.md 1.4): ``Document.status`` with
``ocr_run``/``ocr_next_at``/``ocr_lease_until``, and one ``OcrAttempt`` per vendor call, written
*before* the call. A task only carries a document id; running it twice is harmless because the claim
happens under a row lock and results are applied once per run (a unique constraint backs that up).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.conf import Conf

from kyc import ratelimit
from kyc.broker import book_line, cluster_tasks
from kyc.choices import DocumentStatus, OcrOutcome
from kyc.models import Document, OcrAttempt
from kyc.routing import RouteStep
from kyc.rows import (
    Converters,
    column,
    converted,
    converters_for,
    deferred_writes,
    from_row,
    insert_rows,
    param,
    select_list,
    table,
)
from kyc.services import ocr_queue
from kyc.services.audit import audit_batch, fetch_then_chain
from kyc.services.cases import document_follow_decision
from kyc.services.documents import _document_set_status
from kyc.services.ocr_finish import Claim, case_status, finish, route_case
from kyc.services.ocr_queue import LOCAL_QUOTA_CODE, SHORT_WAIT, attempt_rows, document_rows, next_step
from kyc.services.providers import conf, late_tolerance, provider_for, quota_horizon, quota_key, quota_rate
from kyc.storage import private_storage
from ocr_providers import OcrError, OcrRequest, OcrResult, OcrUnavailable
from ocr_providers.documents import DocumentType, Side

log = logging.getLogger(__name__)
SLOT_MISSED = "slot_missed"  # the provider's HTTP layer refused to send past the slot (nothing was sent)


@cache
def _lock_sql() -> str:
    """The document by id, row-locked; a row another worker holds is skipped (not our turn). SQLite has
    no row locks: its writer lock serialises the transactions instead."""
    sql = f"SELECT {select_list(Document, 'd')} FROM {table(Document)} d WHERE {column(Document, 'id', 'd')} = %s"  # noqa: S608
    if connection.features.has_select_for_update_skip_locked:
        sql += " FOR UPDATE SKIP LOCKED"
    return sql


def _lock(document_id: Any, case_id: Any = None) -> Document | None:
    """The document, row-locked (None: gone, or another worker holds it). With its ``case_id`` known ahead
    (the plan read it; a document never changes case) and inside ``audit_batch`` with deferred writes, the
    audit chain's lock and head go out in the same round trip, after the row lock, so the claim's events
    need no round trip of their own to chain."""
    if case_id is None:
        found = document_rows(_lock_sql(), document_id)
    else:
        (found,) = fetch_then_chain([(_lock_sql(), [param(Document, "id", document_id)])], case_id)
    return from_row(Document, found[0]) if found else None  # type: ignore[return-value]


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
    document_follow_decision(document, case_status(document))  # no vendor call for a decided case
    return True


def _claim(document_id: Any, plan: Plan | None = None) -> Claim | float | None:
    """Under the row lock: a Claim, seconds to wait for the next attempt, or None (nothing to do).
    The plan's attempt rows are reused when the document has not changed since it was read (attempts
    are only ever added or changed together with a document save). Two round trips: the BEGIN and the row
    lock with the audit chain's lock and head (``_lock``), then the attempt's row, the status change and
    its audit event with the COMMIT (kyc.rows.deferred_writes); the claim is built once they are in."""
    with transaction.atomic(), deferred_writes(commit=True), audit_batch():
        document = _lock(document_id, plan.case_id if plan is not None else None)
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
        unchanged = plan is not None and plan.seen == document.updated_at  # every status change saves it
        rows = list(plan.rows) if unchanged and plan is not None else attempt_rows(document)
        choice = next_step(document, rows)
        if choice == "wait":  # no task until then: the sweeper dispatches it, or resuming the provider does
            Document.objects.filter(pk=document.pk).update(
                ocr_next_at=now + timedelta(minutes=5), ocr_task_queued=False
            )
            return None
        if not isinstance(choice, tuple):
            _document_set_status(
                document, to=DocumentStatus.FAILED, actor=None, reason="every configured provider used its attempts"
            )
            route_case(document)
            return None
        number = max((row[2] for row in rows), default=0) + 1
        attempt, claim = _start_attempt(document, *choice, number=number, now=now)
    return replace(claim, attempt_id=attempt.pk)  # the attempt's row went out with the COMMIT: its id is in


def _start_attempt(
    document: Document, step_index: int, step: RouteStep, *, number: int, now: Any
) -> tuple[OcrAttempt, Claim]:
    """The attempt's row and the status change (deferred: they go out with the claim's COMMIT), and the
    claim, whose ``attempt_id`` is known once the row has gone out."""
    attempt = OcrAttempt(
        document=document,
        number=number,
        run=document.ocr_run,
        route_step=step_index,
        provider=step.provider,
        action=step.action,
    )
    insert_rows([attempt])
    lease = now + timedelta(seconds=conf()["lease_seconds"])
    _document_set_status(
        document,
        to=DocumentStatus.PROCESSING,
        actor=None,
        data={"attempt": number, "provider": str(step)},
        also={"ocr_lease_until": lease, "ocr_task_queued": False},
    )
    claim = Claim(
        document.pk,
        0,
        document.ocr_run,
        step,
        document.document_type,
        document.side,
        document.image,
        number=number,
        step_index=step_index,
        lease=lease,
        case_id=document.case_id,
    )
    return attempt, claim


def _request(claim: Claim, send_at: float) -> OcrRequest:
    with private_storage().open(claim.image, "rb") as handle:
        image = handle.read()
    action = "" if claim.step.action == "auto" else claim.step.action
    return OcrRequest(
        image=image,
        document_type=DocumentType(claim.document_type),
        side=Side(claim.side),
        action=action,
        not_before=send_at,
        send_by=send_at + late_tolerance() if send_at else 0.0,
    )


def _call(claim: Claim, request: OcrRequest) -> OcrResult | OcrError:
    try:
        return provider_for(claim.step.provider).recognize(request)
    except OcrError as error:
        return error
    except Exception as error:  # a provider bug must not lose the document; the type name is enough to debug
        log.exception("provider %s raised %s", claim.step.provider, type(error).__name__)
        return OcrUnavailable(f"the provider failed unexpectedly ({type(error).__name__})", code="provider_crashed")


@dataclass(frozen=True)
class Plan:
    """What an unlocked look at the document says its next attempt will use."""

    index: int
    step: RouteStep
    rows: tuple[tuple[int, int, int, str], ...]  # the attempt rows the plan was made from
    seen: Any  # the document's updated_at then
    case_id: Any  # the document's case (never changes): the claim takes its audit chain's lock ahead


@dataclass(frozen=True)
class Slot:
    step: RouteStep
    send_at: float  # monotonic time the call may leave


_PLAN_FIELDS = ("status", "document_type", "ocr_run", "ocr_next_at", "ocr_lease_until", "updated_at", "case")


_ATTEMPT_FIELDS = ("run", "route_step", "number", "error_code")


@cache
def _plan_read() -> tuple[str, Converters]:
    """The plan's one read (the document joined with its attempts) and its columns' converters."""
    document_fields = [Document._meta.get_field(n) for n in _PLAN_FIELDS]
    attempt_fields = [OcrAttempt._meta.get_field(n) for n in _ATTEMPT_FIELDS]
    columns = [column(Document, n, "d") for n in _PLAN_FIELDS] + [column(OcrAttempt, n, "a") for n in _ATTEMPT_FIELDS]
    sql = (
        f"SELECT {', '.join(columns)} FROM {table(Document)} d "  # noqa: S608
        f"LEFT JOIN {table(OcrAttempt)} a ON {column(OcrAttempt, 'document', 'a')} = "
        f"{column(Document, 'id', 'd')} WHERE {column(Document, 'id', 'd')} = %s"
    )
    return sql, converters_for(document_fields + attempt_fields)


def _plan(document_id: Any) -> Plan | float | str | None:
    """Without locks: the next attempt's route step, seconds until the document is due (or until
    another worker's lease ends), ``"claim"`` when only the claim can decide (suspended providers,
    every attempt used), or None when there is nothing to do. One read: the document joined with its
    attempts (one row per attempt; a document without attempts gives one row of nulls)."""
    sql, converters = _plan_read()
    joined = [tuple(converted(converters, row)) for row in document_rows(sql, document_id)]
    if not joined:
        return None
    status, document_type, run, next_at, lease_until, updated_at, case_id = joined[0][: len(_PLAN_FIELDS)]
    now = timezone.now()
    if status == DocumentStatus.PROCESSING:
        if lease_until is None:
            return None
        if lease_until > now:
            return float((lease_until - now).total_seconds())
    elif status != DocumentStatus.QUEUED:
        return None
    elif next_at and next_at > now:
        return float((next_at - now).total_seconds())
    rows = [row[len(_PLAN_FIELDS) :] for row in joined if row[-2] is not None]  # number is never null
    choice = next_step(Document(pk=document_id, document_type=document_type, ocr_run=run), rows)
    if not isinstance(choice, tuple):
        return "claim"
    return Plan(choice[0], choice[1], tuple(rows), updated_at, case_id)


def _reserve(step: RouteStep) -> Slot | float | None:
    """A quota slot a little ahead (time to claim and sign first), if one is free within the horizon;
    else the seconds until the next free one. None when the step has no quota."""
    rate = quota_rate(step)
    if not rate:
        return None
    reservation = _reserve_slot(step, rate, max_wait=quota_horizon(rate))
    if not reservation.granted:
        return reservation.wait
    return Slot(step, reservation.send_at())


def _slot_for(claim: Claim, reserved: Slot | None) -> float | None:
    """The monotonic time the claimed call may leave: the reserved slot when it is still good, else a
    fresh one (the claim chose another step, or the worker ran late); None when none comes soon enough."""
    rate = quota_rate(claim.step)
    if not rate:
        return 0.0
    now = time.monotonic()
    if reserved is not None and reserved.step == claim.step and now <= reserved.send_at + late_tolerance():
        return reserved.send_at
    # A late call would crowd the next slot's call inside one vendor window: the old slot is let go.
    reservation = _reserve_slot(claim.step, rate, max_wait=conf()["max_quota_wait"])
    return reservation.send_at() if reservation.granted else None


def _reserve_slot(step: RouteStep, rate: float, *, max_wait: float) -> ratelimit.Reservation:
    """A vendor call slot for ``step``'s quota, ``quota_lead`` ahead (time to claim and sign first)."""
    settings = conf()
    return ratelimit.limiter().reserve(
        quota_key(step), rate, max_wait=max_wait, lead=settings["quota_lead"], warm_up=settings["quota_warm_up"]
    )


def _later(document_id: Any, seconds: float) -> str:
    """The document is not due yet (or another worker holds it): a delayed task, or none at all when
    that is far off (the sweeper dispatches it then, and takes over lost leases)."""
    if seconds > SHORT_WAIT:
        Document.objects.filter(pk=document_id, status=DocumentStatus.QUEUED).update(ocr_task_queued=False)
        return "deferred"
    ocr_queue.enqueue(document_id, seconds + 0.01)
    return "not due"


def _defer_for_quota(document_id: Any, step: RouteStep, wait: float) -> str:
    """No slot within the horizon: give the worker back instead of sleeping in it. The document keeps
    its place in its quota's line (a second GCRA key, 10% faster than the quota, which also paces how fast
    the broker hands out that quota's tasks: kyc/broker.py), so waiting documents come back about when
    slots free up, one after another, not all at once."""
    rate = quota_rate(step)
    ticket = book_line(quota_key(step), rate, lead=max(0.0, wait - quota_horizon(rate) / 2))
    with transaction.atomic():
        Document.objects.filter(pk=document_id, status=DocumentStatus.QUEUED).update(
            ocr_next_at=timezone.now() + timedelta(seconds=ticket.wait), ocr_task_queued=True
        )
        ocr_queue.enqueue_on_commit(document_id, ticket.wait, step=step)
    return "quota deferred"


def ocr_document_run(*, document_id: Any) -> str:
    """The task body. Returns a short status word (stored by django-q2; never personal data).

    Order matters for the quota: look (no locks), reserve a slot a little ahead, claim under the row
    lock, read the image and sign the request, and only then wait for the slot, so the call leaves on
    time. A slot too far off hands the worker back (a delayed task) instead of holding it asleep, so
    one busy quota cannot starve the others of workers."""
    plan = _plan(document_id)
    if plan is None:
        return "nothing to do"
    if isinstance(plan, float):
        return _later(document_id, plan)
    reserved: Slot | None = None
    if isinstance(plan, Plan):
        slot = _reserve(plan.step)
        if isinstance(slot, float):
            return _defer_for_quota(document_id, plan.step, slot)
        reserved = slot
    claim = _claim(document_id, plan if isinstance(plan, Plan) else None)
    if isinstance(claim, float):
        return _later(document_id, claim)
    if claim is None:
        return "nothing to do"
    send_at = _slot_for(claim, reserved)
    if send_at is None:
        return finish(claim, _quota_deferred(), 0)
    request = _request(claim, send_at)
    ready = time.monotonic()
    outcome = _call(claim, request)
    for _ in range(2):  # the worker stalled past its slot before the send: nothing left, take a new slot
        if not (isinstance(outcome, OcrUnavailable) and outcome.code == SLOT_MISSED):
            break
        fresh = _slot_for(claim, None)
        if fresh is None:
            break
        send_at, ready = fresh, time.monotonic()
        outcome = _call(claim, replace(request, not_before=send_at, send_by=send_at + late_tolerance()))
    if isinstance(outcome, OcrUnavailable) and outcome.code == SLOT_MISSED:
        outcome = _quota_deferred()
    ended = time.monotonic()
    # quota wait: how long the ready request waited for its slot. Vendor latency: the provider's own
    # measure of the vendor's time (from the request leaving to its answer read), or, for an error, from
    # the slot to the end of the call.
    quota_wait = max(0.0, send_at - ready)
    if isinstance(outcome, OcrResult) and outcome.latency_ms is not None:
        latency = outcome.latency_ms / 1000
    else:
        latency = max(0.0, ended - max(ready, send_at))
    return finish(claim, outcome, round(latency * 1000), quota_wait_ms=round(quota_wait * 1000))


def _quota_deferred() -> OcrUnavailable:
    """No slot came soon enough: recorded as an attempt that made no vendor call (not budgeted)."""
    return OcrUnavailable("our own quota limiter deferred the call", code=LOCAL_QUOTA_CODE)


def ocr_sweep() -> dict[str, int]:
    """The reaper and dispatcher (scheduled every minute): re-queue documents whose worker was lost,
    and enqueue queued documents that are due and have no task waiting for them. A document whose task
    waits in a long backlog is left alone, so a big ingest is never enqueued twice; if the broker holds
    no task at all, every due document gets one (a task lost on the way is recovered here)."""
    now = timezone.now()
    lost = list(
        Document.objects.filter(status=DocumentStatus.PROCESSING, ocr_lease_until__lt=now).values_list("pk", flat=True)
    )
    for document_id in lost:
        with transaction.atomic():
            document = _lock(document_id)
            # queued again, unless its case was decided meanwhile (the document then followed the decision)
            if document is not None and _take_over_if_lost(document, now) and document.status == DocumentStatus.QUEUED:
                Document.objects.filter(pk=document.pk).update(ocr_task_queued=True)
                ocr_queue.enqueue_on_commit(document.pk)
    due = Document.objects.filter(status=DocumentStatus.QUEUED).filter(
        Q(ocr_next_at__lte=now) | Q(ocr_next_at__isnull=True), updated_at__lt=now - timedelta(seconds=30)
    )
    if cluster_tasks(Conf.CLUSTER_NAME).exists():
        due = due.filter(ocr_task_queued=False)
    due_ids = list(due.values_list("pk", flat=True))
    Document.objects.filter(pk__in=due_ids).update(ocr_task_queued=True)
    for document_id in due_ids:
        ocr_queue.enqueue(document_id)
    return {"requeued_lost": len(lost), "dispatched": len(due_ids)}
