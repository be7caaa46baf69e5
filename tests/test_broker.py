"""The lane broker: one lane of tasks per vendor quota, taken in proportion to the quotas, the task due
first within a lane; a delayed task is invisible until due; two clusters never take the same task."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_q.models import OrmQ

from kyc import broker as lanes
from kyc import ratelimit
from kyc.broker import LaneBroker, cluster_tasks, lane_key, line_key
from kyc.routing import RouteStep
from kyc.services import ocr, ocr_queue
from kyc.services.providers import quota_horizon, quota_key
from tests import support  # noqa: F401 - registers the scripted providers the routes name

pytestmark = pytest.mark.django_db
HKID, PERMIT, MTP = RouteStep("scripted", "HKID"), RouteStep("scripted", "PERMIT"), RouteStep("scripted", "MTP")


@pytest.fixture(autouse=True)
def metered(settings):
    settings.KYC_OCR = {
        **settings.KYC_OCR,
        "routes": "hk_id_card=scripted:HKID,exit_entry_permit=scripted:PERMIT,mainland_travel_permit=scripted:MTP",
        "quotas": "scripted:HKID=5,scripted:PERMIT=10,scripted:MTP=20",
        "quota_share": 1.0,
        "quota_horizon": 1e6,  # no pacing (see the pacing tests)
    }


def _fill(step: RouteStep | None, count: int, *, due_in: float = 0.0) -> list[int]:
    lane = quota_key(step) if step else ""
    eta = timezone.now() + timedelta(seconds=due_in) if due_in else None
    return [LaneBroker(lane=lane, eta=eta).enqueue(f"{lane or 'default'}-{i}") for i in range(count)]


def _lane_of(payload: str) -> str:
    return payload.rsplit("-", 1)[0]


def _take(cluster: LaneBroker, count: int) -> list[str]:
    taken = []
    for _ in range(count):
        got = cluster.dequeue()
        assert got, f"the broker ran dry after {len(taken)} tasks"
        taken.append(got[0][1])
    return taken


def test_lanes_are_taken_in_proportion_to_their_quotas(monkeypatch):
    monkeypatch.setattr(lanes, "EMPTY_PAUSE", 0.0)  # the empty default lane is asked at every turn too
    for step in (HKID, PERMIT, MTP):
        _fill(step, 80)
    taken = _take(LaneBroker(), 70)  # two turns of 5 + 10 + 20
    counts = Counter(_lane_of(p) for p in taken)
    assert counts == {quota_key(HKID): 10, quota_key(PERMIT): 20, quota_key(MTP): 40}
    first_turn = Counter(_lane_of(p) for p in taken[:35])
    assert first_turn == {quota_key(HKID): 5, quota_key(PERMIT): 10, quota_key(MTP): 20}


def test_a_lane_that_sat_empty_comes_back_at_its_share_without_a_burst(monkeypatch):
    monkeypatch.setattr(lanes, "EMPTY_PAUSE", 0.0)
    _fill(MTP, 200)
    cluster = LaneBroker()
    _take(cluster, 100)  # MTP alone for a while: HKID would have been owed 25 turns
    _fill(HKID, 50)
    taken = _take(cluster, 25)
    assert Counter(_lane_of(p) for p in taken)[quota_key(HKID)] in (5, 6)  # its 1 in 5, not 25 in a row


def test_a_backlog_queued_first_does_not_hold_up_another_quota():
    _fill(HKID, 200)  # a big HKID ingest, queued before anything else
    _fill(MTP, 20)
    taken = _take(LaneBroker(), 10)
    assert Counter(_lane_of(p) for p in taken)[quota_key(MTP)] >= 7  # MTP's quota is four times HKID's


def test_within_a_lane_the_task_due_first_goes_first():
    later = _fill(HKID, 1, due_in=0.0)
    OrmQ.objects.filter(pk__in=later).update(lock=timezone.now() - timedelta(seconds=1))
    earlier = LaneBroker(lane=quota_key(HKID)).enqueue("hkid-first")
    OrmQ.objects.filter(pk=earlier).update(lock=timezone.now() - timedelta(seconds=5))
    assert [pk for pk, _ in LaneBroker().dequeue()] == [earlier]
    assert [pk for pk, _ in LaneBroker().dequeue()] == later


def test_a_lane_is_handed_out_no_faster_than_its_line_lets_through(settings, monkeypatch):
    """Each task handed out books a ticket on the quota's line (110% of its rate); past the quota horizon
    the lane waits its turn while the other lanes are served."""
    settings.KYC_OCR = {**settings.KYC_OCR, "quota_horizon": 0.5}
    monkeypatch.setattr(lanes.time, "sleep", lambda seconds: None)
    for step in (HKID, MTP):
        _fill(step, 50)
    cluster = LaneBroker()
    began = time.monotonic()
    taken = [p for p in (cluster.dequeue() for _ in range(40)) if p]
    elapsed = time.monotonic() - began  # the lines let more through as time passes: bounds grow with it
    counts = Counter(_lane_of(got[0][1]) for got in taken)
    # each line's horizon of tickets (5.5/s for 0.8 s: four HKID slots; 22/s for 0.5 s), the first ticket
    # and whatever the time the loop took let through; never the 50 of each that were due
    assert quota_horizon(5.0) == 0.8
    assert quota_horizon(20.0) == 0.5
    assert 4 <= counts[quota_key(HKID)] <= 2 + (0.8 + elapsed) * 5.5
    assert 10 <= counts[quota_key(MTP)] <= 2 + (0.5 + elapsed) * 22
    assert len(taken) < 40  # the pusher came away empty-handed: both lanes were waiting for their lines


def test_a_pusher_whose_lane_waits_for_its_line_sleeps_until_the_line_has_room(settings, monkeypatch):
    """Not a spin: the lane's backlog is due, but the pusher waits for the line (the other lanes are empty)."""
    settings.KYC_OCR = {**settings.KYC_OCR, "quota_horizon": 0.5}
    monkeypatch.setattr("django_q.conf.Conf.POLL", 0.5)
    naps: list[float] = []
    monkeypatch.setattr(lanes.time, "sleep", naps.append)
    for _ in range(10):  # the line booked 1.8 s ahead: a second past the lane's 0.8 s horizon
        lanes.book_line(quota_key(HKID), 5)
    _fill(HKID, 20)
    cluster = LaneBroker()
    assert cluster.dequeue() is None
    assert naps == [0.5]  # until the line has room, at most a poll interval: not 5 ms at a time
    assert cluster.dequeue() is None  # asked again at once: the same wait, no busy loop
    assert naps[-1] > 0.4
    cluster._passed_until["kyc:lane:retired"] = 0.0  # a lane drained long ago and no longer configured
    assert cluster.dequeue() is None
    assert naps[-1] > 0.4


def test_a_document_handed_back_for_quota_books_its_return_on_the_same_line(settings):
    settings.KYC_OCR = {**settings.KYC_OCR, "quota_horizon": 0.5}
    assert ocr._defer_for_quota("00000000-0000-0000-0000-000000000000", HKID, wait=3.0) == "quota deferred"
    line = line_key(quota_key(HKID))
    assert ratelimit.limiter().peek([line])[line] > 2.5  # the line is booked up to the return
    _fill(HKID, 1)
    assert LaneBroker().dequeue() is None  # so the pusher leaves the lane alone until then


def test_a_taken_task_is_locked_for_the_retry_interval_not_deleted():
    (pk,) = _fill(PERMIT, 1)
    assert [p for p, _ in LaneBroker().dequeue()] == [pk]
    row = OrmQ.objects.get(pk=pk)
    assert row.lock > timezone.now() + timedelta(seconds=60)  # redelivered only if its worker dies
    assert LaneBroker().dequeue() is None


@pytest.mark.django_db(transaction=True)  # the acknowledgement's own transaction (or none) shows
def test_an_acknowledgement_is_one_delete_outside_any_transaction():
    """django-q2's QuerySet.delete went through Django's collector: BEGIN, DELETE, COMMIT."""
    from django.test.utils import CaptureQueriesContext

    kept, done = _fill(PERMIT, 2)
    cluster = LaneBroker()
    cluster.dequeue()
    with CaptureQueriesContext(connection) as queries:
        cluster.acknowledge(done)
    assert [q["sql"].split()[0] for q in queries] == ["DELETE"]
    assert list(OrmQ.objects.values_list("pk", flat=True)) == [kept]


def test_the_pusher_and_monitor_check_their_connection_every_few_seconds_and_after_an_error(monkeypatch):
    """django-q2's get_connection (close old connections; with CONN_HEALTH_CHECKS, a SELECT 1 before the
    next statement) ran before every take and every acknowledgement."""
    (first, second) = _fill(PERMIT, 2)
    cluster = LaneBroker()
    monkeypatch.setattr(connections["default"], "errors_occurred", False)  # whatever an earlier test left
    checks = []
    monkeypatch.setattr(LaneBroker, "get_connection", lambda self, *args: checks.append(time.monotonic()))
    clock = [1000.0]
    monkeypatch.setattr(lanes.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(lanes.time, "sleep", lambda seconds: None)
    cluster.dequeue()
    cluster.acknowledge(first)
    assert len(checks) == 1  # the first operation checks; the next, a moment later, does not
    clock[0] += lanes.CONNECTION_CHECK_EVERY
    cluster.dequeue()
    assert len(checks) == 2
    connections["default"].errors_occurred = True  # Django sets it when a statement fails
    cluster.acknowledge(second)
    assert len(checks) == 3
    assert not OrmQ.objects.exists()


def test_a_delayed_task_is_taken_only_once_due_and_an_idle_pusher_sleeps_until_then(monkeypatch):
    naps: list[float] = []
    monkeypatch.setattr(lanes.time, "sleep", naps.append)
    monkeypatch.setattr("django_q.conf.Conf.POLL", 2.0)
    (pk,) = _fill(MTP, 1, due_in=1.0)
    assert LaneBroker().dequeue() is None
    assert 0.5 < naps[-1] <= 1.0  # until it falls due, not a whole poll interval
    OrmQ.objects.filter(pk=pk).update(lock=timezone.now() - timedelta(milliseconds=1))
    assert [p for p, _ in LaneBroker().dequeue()] == [pk]


def test_an_empty_broker_polls_at_the_configured_interval(monkeypatch):
    naps: list[float] = []
    monkeypatch.setattr(lanes.time, "sleep", naps.append)
    monkeypatch.setattr("django_q.conf.Conf.POLL", 0.5)
    assert LaneBroker().dequeue() is None
    assert naps == [0.5]


def test_unmetered_work_goes_to_the_clusters_own_key(settings):
    settings.KYC_OCR = {**settings.KYC_OCR, "quotas": ""}
    assert lanes.configured_lanes() == {"": 0.0}  # no lane of its own, nothing paces it
    (pk,) = _fill(None, 1)
    assert OrmQ.objects.get(pk=pk).key == "kyc"  # what plain django-q2 would use
    assert [p for p, _ in LaneBroker().dequeue()] == [pk]


def test_a_lane_that_configuration_no_longer_names_is_still_drained():
    (pk,) = [LaneBroker(lane="scripted:RETIRED::x").enqueue("retired-0")]
    assert OrmQ.objects.get(pk=pk).key == lane_key("kyc", "scripted:RETIRED::x")
    assert [p for p, _ in LaneBroker().dequeue()] == [pk]


def test_the_clusters_figures_count_every_lane():
    _fill(HKID, 2)
    _fill(None, 1)
    _fill(MTP, 3, due_in=60)
    cluster = LaneBroker()
    assert (cluster.queue_size(), cluster.lock_size()) == (3, 3)
    assert cluster_tasks("kyc").count() == 6
    assert cluster_tasks("other").count() == 0  # another cluster's name shares no lane
    cluster.purge_queue()
    assert OrmQ.objects.count() == 0


def test_a_queued_document_waits_in_the_lane_of_its_first_route_step(case, reviewer, monkeypatch):
    from kyc.services.documents import document_add
    from tests.support import specimen_image

    monkeypatch.setattr("django_q.conf.Conf.SYNC", False)
    document = document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=reviewer
    )
    ocr_queue.document_queue(document=document, actor=None)
    assert OrmQ.objects.get().key == lane_key("kyc", quota_key(HKID))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clusters_never_take_the_same_task():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent clusters need a shared server database")
    for step in (HKID, PERMIT, MTP):
        _fill(step, 100)
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def cluster(index: int) -> None:
        try:
            broker, naps = LaneBroker(), 0
            start.wait()
            while naps < 2:  # the other cluster may hold the last rows for a moment
                got = broker.dequeue()
                if got:
                    taken[index] += [pk for pk, _ in got]
                else:
                    naps += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cluster, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    everything = taken[0] + taken[1]
    assert len(everything) == len(set(everything)) == 300
    assert taken[0]  # both clusters took part
    assert taken[1]
