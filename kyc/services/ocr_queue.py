"""Queueing OCR work: a document's task (in its quota's broker lane, on commit), the route step its next
attempt will use within each step's attempt budget, re-runs, and what operators do (resume a provider).
The job itself is kyc.services.ocr; applying its answer, kyc.services.ocr_finish.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from kyc.broker import LaneBroker
from kyc.choices import CaseStatus, DocumentStatus
from kyc.exceptions import KycError
from kyc.models import Case, Document, ProviderState
from kyc.routing import RouteStep
from kyc.rows import fetch
from kyc.services.audit import audit_record
from kyc.services.documents import _document_set_status
from kyc.services.providers import conf, forget_suspended, quota_key, quota_rate, routes, suspended_providers

log = logging.getLogger(__name__)
TASK = "kyc.tasks.document_ocr_task"
SHORT_WAIT = 15.0  # a document due later than this gets no task now: the sweeper dispatches it when due
LOCAL_QUOTA_CODE = "local_quota_wait"  # our own limiter said "not now": no vendor call was made


def _lane(step: RouteStep | None) -> str:
    """The broker lane of a task whose next call uses ``step``: its quota key, or the default lane."""
    return quota_key(step) if step is not None and quota_rate(step) else ""


def enqueue(document_id: Any, delay: float = 0.0, *, step: RouteStep | None = None) -> None:
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


def enqueue_on_commit(document_id: Any, delay: float = 0.0, *, step: RouteStep | None = None) -> None:
    """A task that exists exactly when the caller's transaction commits (the caller also sets
    ``ocr_task_queued``). The ORM broker writes its row in that transaction, an outbox: no crash
    between the commit and the enqueue can leave a document waiting for a task that never comes. In
    sync mode (tests) the task runs once the transaction has committed."""
    if Conf.SYNC or not Conf.ORM:
        transaction.on_commit(lambda: enqueue(document_id, delay, step=step))
    else:
        enqueue(document_id, delay, step=step)


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
    enqueue_on_commit(document.pk, step=first[1] if isinstance(first, tuple) else None)
    return document


@transaction.atomic
def document_queue_all(*, case: Case, actor: User | None) -> int:
    """Queue every received document of a case."""
    documents = list(case.documents.filter(status=DocumentStatus.RECEIVED))
    for document in documents:
        document_queue(document=document, actor=actor)
    return len(documents)


def document_rerun(*, document: Document, actor: User) -> Document:
    """Staff re-run OCR: a new run with new attempts; the old attempts and fields stay."""
    if document.status not in {DocumentStatus.EXTRACTED, DocumentStatus.UNREADABLE, DocumentStatus.FAILED}:
        raise KycError(
            f"OCR can be re-run on extracted, unreadable or failed documents, not {document.status}",
            code="rerun_not_allowed",
        )
    return document_queue(document=document, actor=actor, reason="re-run requested")


def task_failed(document_id: Any) -> None:
    """A task raised: a queued document has no task any more, so the sweeper must dispatch it. (A
    processing one is recovered through its lease.) Best effort: the database may be what failed."""
    try:
        Document.objects.filter(pk=document_id, status=DocumentStatus.QUEUED).update(ocr_task_queued=False)
    except Exception:
        log.warning("could not mark document %s for the sweeper", document_id, exc_info=True)


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
        enqueue_on_commit(document_id)


def attempt_rows(document: Document) -> list[tuple[int, int, int, str]]:
    """(run, route step, number, error code) of every attempt of the document: one small query serves
    both the attempt budget and the next attempt number."""
    return list(document.ocr_attempts.values_list("run", "route_step", "number", "error_code"))


def budget_used(document: Document, rows: list[tuple[int, int, int, str]]) -> dict[int, int]:
    """Attempts used per route step in the current run (our own quota deferrals do not count)."""
    used: dict[int, int] = {}
    for run, step, _number, code in rows:
        if run == document.ocr_run and code != LOCAL_QUOTA_CODE:
            used[step] = used.get(step, 0) + 1
    return used


def next_step(document: Document, rows: list[tuple[int, int, int, str]] | None = None) -> tuple[int, RouteStep] | str:
    """The route step the next attempt should use; ``"wait"`` when the only steps left are suspended
    providers, ``"exhausted"`` when every step has used its attempts."""
    rows = attempt_rows(document) if rows is None else rows
    suspended, waiting, used = suspended_providers(), False, budget_used(document, rows)
    for index, step in enumerate(routes()[document.document_type]):
        if used.get(index, 0) >= conf()["max_attempts"]:
            continue
        if step.provider in suspended:
            waiting = True
            continue
        return index, step
    return "wait" if waiting else "exhausted"


def document_rows(sql: str, document_id: Any) -> list[tuple[Any, ...]]:
    """The rows of one of the pipeline's reads of a document (the plan's, the claim's lock), for the
    document ``document_id``."""
    return fetch(sql, [Document._meta.pk.get_db_prep_value(document_id, connection)])
