"""How the pipeline hands out workers: quota slots a little ahead, documents whose slot is far off handed
back as delayed tasks (no attempt, no audit noise), delayed tasks in the ORM broker, and a sweeper that
never enqueues a document twice."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from kyc import ratelimit, tasks
from kyc.choices import DocumentStatus
from kyc.models import AuditEvent, Document, OcrAttempt
from kyc.routing import RouteStep
from kyc.services import ocr, ocr_finish, ocr_queue
from kyc.services.documents import document_add
from kyc.services.providers import late_tolerance, quota_horizon, quota_key
from tests.support import ScriptedProvider, specimen_image, truth_result

pytestmark = pytest.mark.django_db
STEP = RouteStep("scripted", "HKID")


@pytest.fixture(autouse=True)
def scripted(settings):
    settings.KYC_OCR = {
        **settings.KYC_OCR,
        "routes": "hk_id_card=scripted:HKID",
        "quotas": "scripted:HKID=2",
        "quota_share": 1.0,
        "quota_horizon": 0.5,
        "quota_lead": 0.0,
        "quota_warm_up": 0.0,  # slots one interval apart from the first (warm-up: its own test below)
        "backoff_base": 0.0,
    }
    ScriptedProvider.script.clear()
    ScriptedProvider.calls.clear()


@pytest.fixture
def broker(monkeypatch):
    """Tasks go to the ORM broker's table instead of running in-process."""
    monkeypatch.setattr("django_q.conf.Conf.SYNC", False)
    return ORM(list_key="kyc")


def _document(case, reviewer):
    return document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=reviewer
    )


def _queued(case, reviewer, capture):
    document = _document(case, reviewer)
    with capture(execute=False):
        ocr_queue.document_queue(document=document, actor=None)
    return document


def _book_ahead(seconds: float) -> None:
    """Other workers hold the quota's next ``seconds`` of slots."""
    for _ in range(int(seconds * 2)):
        assert ratelimit.limiter().reserve(quota_key(STEP), 2.0, max_wait=100).granted


def test_a_document_whose_slot_is_far_off_goes_back_to_the_queue_without_an_attempt(
    case, reviewer, django_capture_on_commit_callbacks
):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)
    events_before = AuditEvent.objects.count()
    _book_ahead(5)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        assert ocr.ocr_document_run(document_id=document.pk) == "quota deferred"
    document.refresh_from_db()
    assert document.status == DocumentStatus.QUEUED
    assert document.ocr_task_queued
    # it comes back about when its slot is in reach (5 s ahead, less half the quota's horizon), not at once
    back_in = 5 - quota_horizon(2.0) / 2
    assert back_in == 4.0
    assert document.ocr_next_at > timezone.now() + timedelta(seconds=back_in - 0.5)
    assert len(enqueued) == 1  # its delayed task
    assert not OcrAttempt.objects.filter(document=document).exists()
    assert AuditEvent.objects.count() == events_before  # scheduling is not a state change
    assert ScriptedProvider.calls == []


def test_documents_waiting_for_one_quota_come_back_paced_not_all_at_once(
    case, reviewer, applicant, django_capture_on_commit_callbacks
):
    from kyc.services.cases import applicant_create, case_open

    documents = [_queued(case, reviewer, django_capture_on_commit_callbacks)]
    for index in range(3):
        other = case_open(
            applicant=applicant_create(partner=applicant.partner, external_ref=f"P{index}", actor=None), actor=None
        )
        documents.append(_queued(other, reviewer, django_capture_on_commit_callbacks))
    _book_ahead(5)
    with django_capture_on_commit_callbacks(execute=False):
        for document in documents:
            assert ocr.ocr_document_run(document_id=document.pk) == "quota deferred"
    due = sorted(Document.objects.filter(pk__in=[d.pk for d in documents]).values_list("ocr_next_at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(due)]
    # one slot apart at 110% of the rate (2/s): 1 / 2.2 s
    assert all(0.4 < gap < 0.5 for gap in gaps), gaps


def test_a_slot_within_the_horizon_is_handed_to_the_provider(
    settings, case, reviewer, django_capture_on_commit_callbacks
):
    from kyc.services.cases import applicant_create, case_open

    # slots 0.3 s ahead: time enough to claim before them, so neither job has to let its slot go
    settings.KYC_OCR = {**settings.KYC_OCR, "quota_lead": 0.3, "quota_horizon": 1.0}

    other = case_open(
        applicant=applicant_create(partner=case.applicant.partner, external_ref="S2", actor=None), actor=None
    )
    first = _queued(case, reviewer, django_capture_on_commit_callbacks)
    second = _queued(other, reviewer, django_capture_on_commit_callbacks)
    ScriptedProvider.script.extend([truth_result("hk_id_card"), truth_result("hk_id_card")])
    asked = time.monotonic()
    # back to back: the second job's slot is the next one, one interval (0.5 s at 2/s) after the first
    assert ocr.ocr_document_run(document_id=first.pk) == DocumentStatus.EXTRACTED
    assert ocr.ocr_document_run(document_id=second.pk) == DocumentStatus.EXTRACTED
    slots = [request.not_before for request in ScriptedProvider.calls]
    assert slots[0] >= asked - 0.01
    assert slots[1] - slots[0] == pytest.approx(0.5, abs=0.05)
    attempt = OcrAttempt.objects.get(document=second)
    assert attempt.quota_wait_ms is not None
    assert attempt.quota_wait_ms <= 1000  # never longer than the horizon


def test_a_quota_coming_out_of_idleness_spaces_its_first_calls_wider(
    settings, case, reviewer, django_capture_on_commit_callbacks
):
    from kyc.services.cases import applicant_create, case_open

    settings.KYC_OCR = {**settings.KYC_OCR, "quota_lead": 0.3, "quota_horizon": 2.0, "quota_warm_up": 1.0}
    other = case_open(
        applicant=applicant_create(partner=case.applicant.partner, external_ref="W2", actor=None), actor=None
    )
    documents = [_queued(c, reviewer, django_capture_on_commit_callbacks) for c in (case, other)]
    ScriptedProvider.script.extend([truth_result("hk_id_card")] * 2)
    for document in documents:
        assert ocr.ocr_document_run(document_id=document.pk) == DocumentStatus.EXTRACTED
    first, second = (request.not_before for request in ScriptedProvider.calls)
    assert second - first == pytest.approx(0.75, abs=0.05)  # 1.5 intervals of the 2/s quota, not 0.5 s


def test_a_worker_late_for_its_slot_takes_a_fresh_one(case, reviewer, django_capture_on_commit_callbacks):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)
    claim = ocr._claim(document.pk)
    assert isinstance(claim, ocr_finish.Claim)
    stale = ocr.Slot(STEP, time.monotonic() - 1.0)  # the worker stalled a second past its slot
    fresh = ocr._slot_for(claim, stale)
    assert fresh is not None
    assert fresh >= time.monotonic() - 0.05
    on_time = ocr.Slot(STEP, time.monotonic() + 0.3)
    assert ocr._slot_for(claim, on_time) == on_time.send_at


def test_a_delayed_task_stays_invisible_to_the_clusters_until_it_is_due(case, reviewer, broker):
    document = _document(case, reviewer)
    ocr_queue.enqueue(document.pk, delay=30)
    row = OrmQ.objects.get()
    assert timedelta(seconds=29) < row.lock - timezone.now() <= timedelta(seconds=30)
    assert SignedPackage.loads(row.payload)["args"] == (str(document.pk),)
    broker_poll = broker.dequeue()
    assert not broker_poll  # nothing handed out yet
    OrmQ.objects.update(lock=timezone.now() - timedelta(seconds=1))
    assert [pk for pk, _ in broker.dequeue()] == [row.pk]


def _overdue(document: Document, **fields) -> None:
    Document.objects.filter(pk=document.pk).update(
        ocr_next_at=timezone.now() - timedelta(minutes=5), updated_at=timezone.now() - timedelta(minutes=5), **fields
    )


def test_a_task_is_written_in_the_transaction_that_queues_its_document(case, reviewer, broker):
    from django.db import transaction

    document = _document(case, reviewer)
    seen = []

    def queue_then_fail():
        with transaction.atomic():
            ocr_queue.document_queue(document=document, actor=None)
            seen.append(OrmQ.objects.count())  # not after the commit: in it
            raise RuntimeError("the caller fails later in the same transaction")

    with pytest.raises(RuntimeError):
        queue_then_fail()
    assert seen == [1]
    assert OrmQ.objects.count() == 0  # rolled back with the status change
    document.refresh_from_db()
    assert document.status == DocumentStatus.RECEIVED


def test_the_sweeper_leaves_documents_whose_task_waits_in_the_backlog(
    case, reviewer, broker, django_capture_on_commit_callbacks
):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)  # its task, in a long backlog
    assert OrmQ.objects.count() == 1  # written in the queueing transaction
    _overdue(document)
    assert ocr.ocr_sweep()["dispatched"] == 0
    assert OrmQ.objects.count() == 1


def test_the_sweeper_dispatches_a_due_document_that_has_no_task(
    case, reviewer, broker, django_capture_on_commit_callbacks
):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)
    # its task ran and left none (its retry was far off); another document's task keeps the broker busy
    OrmQ.objects.all().delete()
    ocr_queue.enqueue(document.pk)
    _overdue(document, ocr_task_queued=False)
    assert ocr.ocr_sweep()["dispatched"] == 1
    document.refresh_from_db()
    assert document.ocr_task_queued
    assert OrmQ.objects.count() == 2
    assert ocr.ocr_sweep()["dispatched"] == 0  # and only once


def test_with_an_empty_broker_every_due_document_gets_a_task(
    case, reviewer, broker, django_capture_on_commit_callbacks
):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)
    OrmQ.objects.all().delete()  # its task was lost (say, a broker restored from an old backup)
    _overdue(document)
    assert OrmQ.objects.count() == 0
    assert ocr.ocr_sweep()["dispatched"] == 1
    assert OrmQ.objects.count() == 1


def test_a_task_that_raises_leaves_its_document_to_the_sweeper(
    monkeypatch, case, reviewer, django_capture_on_commit_callbacks
):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ocr, "ocr_document_run", broken)
    with pytest.raises(RuntimeError):
        tasks.document_ocr_task(str(document.pk))
    document.refresh_from_db()
    assert document.status == DocumentStatus.QUEUED
    assert not document.ocr_task_queued


def test_a_document_not_due_for_long_keeps_no_task(case, reviewer, django_capture_on_commit_callbacks):
    document = _queued(case, reviewer, django_capture_on_commit_callbacks)
    Document.objects.filter(pk=document.pk).update(ocr_next_at=timezone.now() + timedelta(minutes=10))
    assert ocr.ocr_document_run(document_id=document.pk) == "deferred"
    document.refresh_from_db()
    assert not document.ocr_task_queued  # the sweeper dispatches it when due


@pytest.mark.parametrize(
    ("share", "tolerance_ms"),
    [(0.5, 20.0), (0.9, 20.0), (0.96, 10.4), (0.99, 2.5), (1.0, 0.0)],
)
def test_a_call_may_leave_late_by_at_most_a_quarter_of_the_shares_slack(settings, share, tolerance_ms):
    """quota + 1 calls on slots 1 / (share x quota) apart span 1 / share seconds: their vendor window holds
    them all only if the first arrives 1 / share - 1 seconds late, and the sender takes a quarter of that."""
    settings.KYC_OCR = {**settings.KYC_OCR, "quota_share": share}
    assert late_tolerance() * 1000 == pytest.approx(tolerance_ms, abs=0.05)


def test_a_call_that_missed_its_slot_before_leaving_takes_a_new_one_in_the_same_attempt(
    case, reviewer, django_capture_on_commit_callbacks
):
    from ocr_providers import OcrUnavailable

    document = _queued(case, reviewer, django_capture_on_commit_callbacks)
    missed = OcrUnavailable("the quota slot passed before the request could leave", code="slot_missed")
    ScriptedProvider.script.extend([missed, truth_result("hk_id_card")])
    assert ocr.ocr_document_run(document_id=document.pk) == DocumentStatus.EXTRACTED
    first, second = ScriptedProvider.calls
    assert first.send_by == pytest.approx(first.not_before + late_tolerance())
    assert second.not_before > first.not_before  # a fresh slot, one interval (0.5 s) later
    assert OcrAttempt.objects.filter(document=document).count() == 1  # nothing was sent the first time
