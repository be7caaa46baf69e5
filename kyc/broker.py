"""django-q2's ORM broker with lanes: one lane of tasks per vendor quota, handed out in proportion to the
quotas, so every quota always has work in reach and none waits behind another's backlog.

django-q2's ORM broker keeps one list per cluster and hands out any due row, in no defined order. With
several vendor actions behind one list, workers get whatever comes next: a run of one action finds its
quota full (the tasks go back, delayed) while another action's slots pass unused, and a backlog of one
document type queued first holds up every other type for as long as it lasts.

Here each quota key has a lane of its own (the OrmQ key ``<cluster>:lane:<quota key>``). The pusher
shares its turns among the lanes by stride scheduling (Waldspurger), the weights being the quotas'
rates: exact shares among the lanes that have work, and a lane that sat empty comes back without a
burst of saved-up turns. Within a lane it takes the task due first.

A metered lane is also paced: every task handed out books a ticket on the quota's shared line
(``<quota key>:line`` in the rate limiter, at 110% of the quota's rate; documents the pipeline hands
back for want of a slot book their return on the same line), and the pusher passes a lane over while
its line is booked further ahead than the quota's horizon (``kyc.services.providers.quota_horizon``).
So, across every cluster, workers get each quota's tasks about as fast as its slots come, a little
faster so none is left idle, instead of as fast as they can hand back the ones that find the quota full.
A pusher that takes nothing sleeps until the next lane's turn: a paced lane's line has room, or an
empty lane's first delayed task falls due.

Work without a quota (the offline engine, schedules, the sweeper's dispatches) goes to the cluster's own
key, the default lane, weighted as much as all metered lanes together. A lane that configuration no
longer names (routes changed while tasks waited) is found in the table and still drained.

Taking a task is one statement: ``UPDATE ... WHERE id = (SELECT ... ORDER BY lock LIMIT 1 FOR UPDATE
SKIP LOCKED) RETURNING id, payload``, so two clusters never take the same task and never queue behind
each other's row locks; SQLite runs it without the lock clause (it serialises writers). An index on
``(key, lock)`` (migration 0006) keeps it an index lookup however long the backlog. Delivery is as
django-q2's: the taken row's lock moves ``retry`` seconds ahead, and the monitor deletes it once the
task has run (one ``DELETE``), so a task whose worker died is handed out again when that lock passes.

django-q2's ORM broker closes old connections before every operation, which with ``CONN_HEALTH_CHECKS``
made each take and each acknowledgement start with a ``SELECT 1``; here the pusher and the monitor
check their connection at most every ``CONNECTION_CHECK_EVERY`` seconds, and at once after an error.
(On PostgreSQL the check itself no longer sends ``SELECT 1`` while the socket is quiet, kyc/db; the
spacing stays because a pusher asks for work many times a second, and each check walks every
connection. A worker, which checks once per task, checks before every one: kyc/workers.py.)
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Min, Q, QuerySet
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from kyc.ratelimit import Reservation, limiter

LANE = ":lane:"
LINE_PACE = 1.1  # a quota's line lets tasks through 10% faster than its slots come, so none is left idle
EMPTY_PAUSE = 0.05  # seconds a lane with nothing due is passed over while other lanes have work
MIN_SLEEP = 0.005  # seconds; the shortest nap of an idle pusher
DISCOVER_EVERY = 5.0  # seconds between looks for lanes that configuration does not name
CONNECTION_CHECK_EVERY = 5.0  # seconds between a pusher's or monitor's checks of its database connection


def lane_key(cluster: str, lane: str) -> str:
    """The OrmQ key of a lane; the default lane is the cluster's own key (what plain django-q2 uses)."""
    return f"{cluster}{LANE}{lane}"[:100] if lane else cluster


def cluster_tasks(cluster: str) -> QuerySet[OrmQ]:
    """Every task of the cluster, in all its lanes."""
    tasks: QuerySet[OrmQ] = OrmQ.objects.using(Conf.ORM).filter(Q(key=cluster) | Q(key__startswith=cluster + LANE))
    return tasks


def line_key(quota_key: str) -> str:
    """The rate-limiter key that paces how fast a quota's tasks reach workers (not the vendor calls)."""
    return quota_key + ":line"


def book_line(quota_key: str, rate: float, *, lead: float = 0.0) -> Reservation:
    """A ticket on a quota's line, at least ``lead`` seconds ahead; never refused. Both the pusher (a task
    handed out) and the pipeline (a document handed back for want of a slot) book here, so one pace
    governs both."""
    return limiter().reserve(line_key(quota_key), rate * LINE_PACE, max_wait=1e9, lead=lead)


def configured_lanes() -> dict[str, float]:
    """Lane (quota key) -> its quota's rate for each metered route step, and the default lane ("") with no
    rate (nothing paces it)."""
    from kyc.services.providers import quota_key, quota_rate, routes

    lanes: dict[str, float] = {}
    for steps in routes().values():
        for step in steps:
            rate = quota_rate(step)
            if rate:
                lanes[quota_key(step)] = rate
    lanes[""] = 0.0
    return lanes


class LaneBroker(ORM):  # type: ignore[misc]  # django-q2 ships no type hints
    """Enqueues into one lane (``lane``: a quota key, or "" for the default), visible from ``eta`` on (a
    countdown, which django-q2 lacks); dequeues across all lanes by weight. The cluster's broker (the
    ``broker_class`` setting) is built without a lane and only dequeues."""

    def __init__(self, list_key: str | None = None, *, lane: str = "", eta: datetime | None = None) -> None:
        super().__init__(list_key=list_key or Conf.CLUSTER_NAME)
        self.lane, self.eta = lane, eta
        self._weights: dict[str, float] = {}  # OrmQ key -> weight
        # OrmQ key of a metered lane -> (its quota key, the quota's rate, how far ahead its line may be booked)
        self._lines: dict[str, tuple[str, float, float]] = {}
        # stride scheduling (Waldspurger): each lane's next turn in virtual time; serving it advances that by
        # 1/weight, and the lane with the earliest turn is served first
        self._pass: dict[str, float] = {}
        self._virtual_time = 0.0
        self._passed_until: dict[str, float] = {}  # lanes passed over until then (nothing due, or paced)
        self._discovered_at = float("-inf")
        self._connection_checked_at = float("-inf")

    # --- producing --------------------------------------------------------------------------------------

    def enqueue(self, task: str) -> Any:
        key = lane_key(self.list_key, self.lane)
        return self.get_connection().create(key=key, payload=task, lock=self.eta or timezone.now()).pk

    # --- consuming --------------------------------------------------------------------------------------

    def _check_connection(self) -> None:
        """django-q2's ``get_connection`` (outside a transaction: close a connection past its age or broken,
        and health-check it before its next use), but at most every ``CONNECTION_CHECK_EVERY`` seconds, and
        at once after a database error (Django then closes it if it is unusable)."""
        now = time.monotonic()
        if now - self._connection_checked_at >= CONNECTION_CHECK_EVERY or connections[Conf.ORM].errors_occurred:
            self.get_connection()
            self._connection_checked_at = now

    def delete(self, task_id: Any) -> None:
        """One ``DELETE`` in autocommit: django-q2's ``QuerySet.delete`` goes through Django's collector,
        which wraps it in a transaction (three round trips for one row, on every task's acknowledgement)."""
        self._check_connection()
        connection = connections[Conf.ORM]
        table, key = connection.ops.quote_name(OrmQ._meta.db_table), connection.ops.quote_name("id")
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {key} = %s", [task_id])  # noqa: S608 - quoted names

    def dequeue(self) -> list[tuple[Any, str]] | None:
        self._check_connection()
        now = time.monotonic()
        if now - self._discovered_at > DISCOVER_EVERY:
            self._discover()
            self._discovered_at = now
        candidates = [key for key in self._weights if self._passed_until.get(key, 0.0) <= now]
        booked = self._booked_ahead(candidates)
        empty: list[str] = []
        for key in sorted(candidates, key=lambda k: max(self._pass.get(k, 0.0), self._virtual_time)):
            ahead = booked.get(key, 0.0) - (self._lines[key][2] if key in self._lines else 0.0)
            if ahead > 0:  # the quota's slots are spoken for beyond the horizon: not this lane's turn
                self._passed_until[key] = now + min(ahead, float(Conf.POLL))
                continue
            taken = self._take(key)
            if taken is None:
                self._passed_until[key] = now + EMPTY_PAUSE
                empty.append(key)
                continue
            if key in self._lines:
                book_line(*self._lines[key][:2])
            # stride scheduling: a lane that sat idle starts from the present, it banks no turns
            start = max(self._pass.get(key, 0.0), self._virtual_time)
            self._pass[key], self._virtual_time = start + 1.0 / self._weights[key], start
            return [taken]
        time.sleep(self._nap(now, empty))
        return None

    def _nap(self, now: float, empty: list[str]) -> float:
        """How long a pusher that took nothing sleeps: until the first lane's next turn, at most the poll
        interval (a task enqueued meanwhile waits no longer than that). A lane waiting for its line is due
        a turn when the line has room; a lane with nothing due, when its first delayed task falls due (one
        query for them all), so delayed tasks are taken on time without asking empty lanes all the while."""
        if empty:
            due = dict(
                OrmQ.objects.using(Conf.ORM).filter(key__in=empty).values_list("key").annotate(first=Min("lock"))
            )
            wall = timezone.now()
            for key in empty:
                wait = (due[key] - wall).total_seconds() if due.get(key) is not None else float(Conf.POLL)
                self._passed_until[key] = now + min(float(Conf.POLL), max(MIN_SLEEP, wait))
        turns = [t for key, t in self._passed_until.items() if key in self._weights and t > now]
        return min(float(Conf.POLL), max(MIN_SLEEP, min(turns, default=now + float(Conf.POLL)) - now))

    def _booked_ahead(self, keys: list[str]) -> dict[str, float]:
        """Seconds each metered lane's line is booked ahead (one limiter call for them all)."""
        lines = {key: line_key(self._lines[key][0]) for key in keys if key in self._lines}
        ahead = limiter().peek(sorted(set(lines.values())))
        return {key: ahead[line] for key, line in lines.items()}

    def _discover(self) -> None:
        """The lanes and their weights: each metered lane its quota's rate, the default lane (and any lane
        configuration no longer names, so it is drained) as much as all metered lanes together."""
        from kyc.services.providers import quota_horizon

        lanes = configured_lanes()
        unmetered = sum(lanes.values()) or 1.0
        self._weights = {lane_key(self.list_key, lane): rate or unmetered for lane, rate in lanes.items()}
        self._lines = {
            lane_key(self.list_key, lane): (lane, rate, quota_horizon(rate)) for lane, rate in lanes.items() if rate
        }
        for key in cluster_tasks(self.list_key).values_list("key", flat=True).distinct():
            self._weights.setdefault(key, unmetered)

    def _take(self, key: str) -> tuple[Any, str] | None:
        connection = connections[Conf.ORM]
        ops, table = connection.ops, connection.ops.quote_name(OrmQ._meta.db_table)
        lock, name = ops.quote_name("lock"), ops.quote_name("key")
        skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        # quoted identifiers only; every value is a parameter
        sql = (
            f"UPDATE {table} SET {lock} = %s WHERE id = (SELECT id FROM {table} WHERE {name} = %s AND {lock} < %s "  # noqa: S608
            f"ORDER BY {lock}, id LIMIT 1{skip_locked}) RETURNING id, payload"
        )
        until, now = self.timeout(None), timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(sql, [ops.adapt_datetimefield_value(until), key, ops.adapt_datetimefield_value(now)])
            row = cursor.fetchone()
        return (row[0], row[1]) if row else None

    # --- the cluster's own figures (qinfo, admin) count every lane -------------------------------------

    def queue_size(self) -> int:
        return int(cluster_tasks(self.list_key).filter(lock__lte=timezone.now()).count())

    def lock_size(self) -> int:
        return int(cluster_tasks(self.list_key).filter(lock__gt=timezone.now()).count())

    def purge_queue(self) -> Any:
        return cluster_tasks(self.list_key).delete()
