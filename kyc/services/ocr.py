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
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from itertools import pairwise
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from kyc import ratelimit
from kyc.broker import LaneBroker, book_line, cluster_tasks
from kyc.choices import CaseStatus, DocumentStatus, OcrOutcome
from kyc.exceptions import KycError
from kyc.models import Applicant, Case, Document, OcrAttempt, Partner, ProviderState
from kyc.routing import RouteStep
from kyc.rows import (
    Converters,
    column,
    converted,
    converters_for,
    deferred_writes,
    fetch,
    from_row,
    insert_rows,
    select_list,
    split_row,
    table,
    update_row,
)
from kyc.services.audit import audit_batch, audit_record
from kyc.services.cases import document_follow_decision
from kyc.services.documents import _document_set_status
from kyc.services.providers import (
    conf,
    forget_suspended,
    late_tolerance,
    provider_for,
    provider_suspend,
    quota_horizon,
    quota_key,
    quota_rate,
    routes,
    suspended_providers,
)
from kyc.services.results import result_apply, result_checks
from kyc.storage import private_storage
from ocr_providers import OcrError, OcrMisconfigured, OcrRejected, OcrRequest, OcrResult, OcrUnavailable
from ocr_providers.documents import DocumentType, Side

log = logging.getLogger(__name__)
TASK = "kyc.tasks.document_ocr_task"
SHORT_WAIT = 15.0  # a document due later than this gets no task now: the sweeper dispatches it when due
LOCAL_QUOTA_CODE = "local_quota_wait"  # our own limiter said "not now": no vendor call was made
SLOT_MISSED = "slot_missed"  # the provider's HTTP layer refused to send past the slot (nothing was sent)
LEASE_CLEARED: dict[str, Any] = {"ocr_lease_until": None}  # saved with every status change that ends a call
_UNREADABLE_CODES = {"unreadable", "not_a_document", "wrong_document_type", "image_unreadable", "blurry"}


# --- queueing -------------------------------------------------------------------------------------------


def _lane(step: RouteStep | None) -> str:
    """The broker lane of a task whose next call uses ``step``: its quota key, or the default lane."""
    return quota_key(step) if step is not None and quota_rate(step) else ""


def _enqueue(document_id: Any, delay: float = 0.0, *, step: RouteStep | None = None) -> None:
    """A task for the document, in the lane of the step its next call will use (kyc/broker.py); after
    ``delay`` seconds when given (the broker row's lock is the countdown django-q2 does not have)."""
    if Conf.SYNC:  # tests run tasks in-process: wait here instead
        if delay > 0:
            time.sleep(min(delay, SHORT_WAIT))
        async_task(TASK, str(document_id), group="ocr")
    elif not Conf.ORM:
        async_task(TASK, str(document_id), group="ocr")
    else:
        eta = timezone.now() + timedelta(seconds=delay) if delay > 0 else None
        async_task(TASK, str(document_id), group="ocr", broker=LaneBroker(lane=_lane(step), eta=eta))


def _enqueue_on_commit(document_id: Any, delay: float = 0.0, *, step: RouteStep | None = None) -> None:
    """A task that exists exactly when the caller's transaction commits (the caller also sets
    ``ocr_task_queued``). The ORM broker writes its row in that transaction, an outbox: no crash
    between the commit and the enqueue can leave a document waiting for a task that never comes. In
    sync mode (tests) the task runs once the transaction has committed."""
    if Conf.SYNC or not Conf.ORM:
        transaction.on_commit(lambda: _enqueue(document_id, delay, step=step))
    else:
        _enqueue(document_id, delay, step=step)


@transaction.atomic
def document_queue(*, document: Document, actor: User | None, reason: str = "") -> Document:
    """Queue a document for OCR. From extracted/unreadable/failed this is a re-run: a new run with new
    attempts; earlier attempts and their fields stay as history."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    rerun = document.status != DocumentStatus.RECEIVED
    # Under the document's lock: an approval locks its case's documents before it changes the case.
    if rerun and Case.objects.filter(pk=document.case_id, status=CaseStatus.AWAITING_SECOND_APPROVAL).exists():
        # The first approval was given on the current reading: a new one would reach the second approver
        # unseen by the first.
        raise KycError(
            "the case awaits its second approval, given on the current reading; send it back to review "
            "before re-running OCR",
            code="rerun_not_allowed",
        )
    _document_set_status(
        document,
        to=DocumentStatus.QUEUED,
        actor=actor,
        reason=reason or ("re-run" if rerun else ""),
        data={"run": document.ocr_run + 1},
        also={"ocr_run": document.ocr_run + 1, "ocr_next_at": timezone.now(), "ocr_task_queued": True},
    )
    first = next_step(document, rows=[])  # a new run has used no attempts
    _enqueue_on_commit(document.pk, step=first[1] if isinstance(first, tuple) else None)
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
    number: int  # the attempt's number and route step, so finishing needs no read of it
    step_index: int
    lease: Any  # the lease this claim set: another claim's lease means the document moved on


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


def _document_rows(sql: str, document_id: Any) -> list[tuple[Any, ...]]:
    """The rows of one of the reads below, for the document ``document_id``."""
    return fetch(sql, [Document._meta.pk.get_db_prep_value(document_id, connection)])


@cache
def _lock_sql() -> str:
    """The document by id, row-locked; a row another worker holds is skipped (not our turn). SQLite has
    no row locks: its writer lock serialises the transactions instead."""
    sql = f"SELECT {select_list(Document, 'd')} FROM {table(Document)} d WHERE {column(Document, 'id', 'd')} = %s"  # noqa: S608
    if connection.features.has_select_for_update_skip_locked:
        sql += " FOR UPDATE SKIP LOCKED"
    return sql


def _lock(document_id: Any) -> Document | None:
    found = _document_rows(_lock_sql(), document_id)
    return from_row(Document, found[0]) if found else None  # type: ignore[return-value]


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


def _lock_for_finish(document_id: Any) -> Document:
    """The document and its case, locked, with the case's applicant and partner loaded (for the checks and
    the routing at the end), in one statement."""
    found = _document_rows(_finish_sql(), document_id)
    if not found:
        raise Document.DoesNotExist(f"document {document_id} is gone")
    document, case, applicant, partner = split_row(found[0], [model for model, _, _ in _FINISH_JOIN])
    applicant.partner, case.applicant, document.case = partner, applicant, case  # type: ignore[attr-defined]
    return document  # type: ignore[return-value]


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
    document_follow_decision(document, _case_status(document))  # no vendor call for a decided case
    return True


def _claim(document_id: Any, plan: Plan | None = None) -> Claim | float | None:
    """Under the row lock: a Claim, seconds to wait for the next attempt, or None (nothing to do).
    The plan's attempt rows are reused when the document has not changed since it was read (attempts
    are only ever added or changed together with a document save). The status change goes out with the
    audit chain's lock and head read, in one round trip (kyc.rows.deferred_writes)."""
    with transaction.atomic(), deferred_writes():
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
        unchanged = plan is not None and plan.seen == document.updated_at  # every status change saves it
        rows = list(plan.rows) if unchanged and plan is not None else _attempt_rows(document)
        choice = next_step(document, rows)
        if isinstance(choice, tuple):
            number = max((row[2] for row in rows), default=0) + 1
            return _start_attempt(document, *choice, number=number, now=now)
        if choice == "wait":  # no task until then: the sweeper dispatches it, or resuming the provider does
            Document.objects.filter(pk=document.pk).update(
                ocr_next_at=now + timedelta(minutes=5), ocr_task_queued=False
            )
            return None
        _document_set_status(
            document, to=DocumentStatus.FAILED, actor=None, reason="every configured provider used its attempts"
        )
        _route_case(document)
        return None


def _start_attempt(document: Document, step_index: int, step: RouteStep, *, number: int, now: Any) -> Claim:
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
    return Claim(
        document.pk,
        attempt.pk,
        document.ocr_run,
        step,
        document.document_type,
        document.side,
        document.image,
        number=number,
        step_index=step_index,
        lease=lease,
    )


# --- calling --------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Slot:
    step: RouteStep
    send_at: float  # monotonic time the call may leave


_PLAN_FIELDS = ("status", "document_type", "ocr_run", "ocr_next_at", "ocr_lease_until", "updated_at")
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
    joined = [tuple(converted(converters, row)) for row in _document_rows(sql, document_id)]
    if not joined:
        return None
    status, document_type, run, next_at, lease_until, updated_at = joined[0][: len(_PLAN_FIELDS)]
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
    return Plan(choice[0], choice[1], tuple(rows), updated_at)


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
    _enqueue(document_id, seconds + 0.01)
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
        _enqueue_on_commit(document_id, ticket.wait, step=step)
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
        return _finish(claim, _quota_deferred(), 0)
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
    # quota wait: how long the ready request waited for its slot; vendor latency: from the send on
    quota_wait = max(0.0, send_at - ready)
    latency = max(0.0, ended - max(ready, send_at))
    return _finish(claim, outcome, int(latency * 1000), quota_wait_ms=int(quota_wait * 1000))


def _quota_deferred() -> OcrUnavailable:
    """No slot came soon enough: recorded as an attempt that made no vendor call (not budgeted)."""
    return OcrUnavailable("our own quota limiter deferred the call", code=LOCAL_QUOTA_CODE)


def task_failed(document_id: Any) -> None:
    """A task raised: a queued document has no task any more, so the sweeper must dispatch it. (A
    processing one is recovered through its lease.) Best effort: the database may be what failed."""
    try:
        Document.objects.filter(pk=document_id, status=DocumentStatus.QUEUED).update(ocr_task_queued=False)
    except Exception:
        log.warning("could not mark document %s for the sweeper", document_id, exc_info=True)


# --- finishing ------------------------------------------------------------------------------------------


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
    update_row(attempt, fields)


def _finish(claim: Claim, outcome: OcrResult | OcrError, latency_ms: int, *, quota_wait_ms: int = 0) -> str:
    # The finish's audit events (status change, routing) are written together at its end: the audit
    # chain's lock is held from there to the commit only. Its row writes (attempt, fields, portrait, checks,
    # statuses) go out in one round trip before the next read (kyc.rows.deferred_writes).
    with transaction.atomic(), audit_batch(), deferred_writes():
        # The case is locked in the same statement, after the document, for routing at the end.
        document = _lock_for_finish(claim.document_id)
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
        # The checks' one read (the duplicate lookup) before any write, so the writes go out together.
        checked = result_checks(document, outcome) if isinstance(outcome, OcrResult) and not stale else []
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
            return _finish_success(document, attempt, outcome, checked)
        return _finish_error(document, attempt, outcome)


def _finish_success(document: Document, attempt: OcrAttempt, result: OcrResult, checked: list[Any]) -> str:
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
    _route_case(document, case_locked=True)
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
        _route_case(document, case_locked=True)
        return target
    used = _budget_used(document, _attempt_rows(document)).get(attempt.route_step, 0)
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
        _route_case(document, case_locked=True)
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
        _enqueue_on_commit(document.pk, delay, step=choice[1] if isinstance(choice, tuple) else None)
    return "retry"


def _route_case(document: Document, *, case_locked: bool = False) -> None:
    """Route the case in the same transaction. Locks are taken document first, then case, everywhere, so
    two documents of one case finishing together serialise on the case row and the second sees the first.
    ``case_locked``: ``document.case`` was locked with the document (``_finish``). A case decided while the
    document was being read is not routed: the document follows the decision."""
    from kyc.services.routing import case_route

    if document_follow_decision(document, document.case.status if case_locked else _case_status(document)):
        return
    case_route(case_id=document.case_id, locked=document.case if case_locked else None)


def _case_status(document: Document) -> str | None:
    # Unlocked: a decision locks the case's documents (this one is ours) before it changes the case.
    return Case.objects.filter(pk=document.case_id).values_list("status", flat=True).first()


# --- operators ------------------------------------------------------------------------------------------


@transaction.atomic
def provider_resume(*, provider: str, actor: User | None) -> None:
    state = ProviderState.objects.select_for_update().get(provider=provider)
    state.suspended, state.resumed_at = False, timezone.now()
    state.save(update_fields=["suspended", "resumed_at"])
    forget_suspended()
    audit_record(actor=actor, action="provider.resumed", obj=state, data={"provider": provider})
    waiting = list(
        Document.objects.filter(status=DocumentStatus.QUEUED, ocr_task_queued=False).values_list("pk", flat=True)
    )
    Document.objects.filter(pk__in=waiting).update(ocr_next_at=timezone.now(), ocr_task_queued=True)
    for document_id in waiting:
        _enqueue_on_commit(document_id)


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
                _enqueue_on_commit(document.pk)
    due = Document.objects.filter(status=DocumentStatus.QUEUED).filter(
        Q(ocr_next_at__lte=now) | Q(ocr_next_at__isnull=True), updated_at__lt=now - timedelta(seconds=30)
    )
    if cluster_tasks(Conf.CLUSTER_NAME).exists():
        due = due.filter(ocr_task_queued=False)
    due_ids = list(due.values_list("pk", flat=True))
    Document.objects.filter(pk__in=due_ids).update(ocr_task_queued=True)
    for document_id in due_ids:
        _enqueue(document_id)
    return {"requeued_lost": len(lost), "dispatched": len(due_ids)}


def document_rerun(*, document: Document, actor: User) -> Document:
    """Staff re-run OCR: a new run with new attempts; the old attempts and fields stay."""
    if document.status not in {DocumentStatus.EXTRACTED, DocumentStatus.UNREADABLE, DocumentStatus.FAILED}:
        raise KycError(
            f"OCR can be re-run on extracted, unreadable or failed documents, not {document.status}",
            code="rerun_not_allowed",
        )
    return document_queue(document=document, actor=actor, reason="re-run requested")
