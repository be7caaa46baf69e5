"""The shared limiter hands out call slots spaced 1/rate apart, in the database and in Redis.

Slots are compared by their start times on one clock (request time + granted wait), so the checks do
not depend on how fast the test itself runs, only on each reservation being one slot after the last.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid

import pytest

from kyc.ratelimit import DatabaseLimiter, RedisLimiter

REDIS_URL = os.environ.get("KYC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RATE, INTERVAL = 2.0, 0.5


def _redis_or_skip():
    limiter = RedisLimiter(REDIS_URL)
    try:
        limiter._client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return limiter


def _reserve(limiter, key, n, max_wait=60.0):
    """(granted, slot start on this process's monotonic clock) for n back-to-back reservations. A refused
    request first (it reserves nothing) makes the key's row and readies the connection, so that the first
    timed reservation is one round trip like the others (a slow first one once read as a gap 0.1 s long)."""
    assert not limiter.reserve(key, RATE, -1.0).granted
    out = []
    for _ in range(n):
        asked = time.monotonic()
        reservation = limiter.reserve(key, RATE, max_wait)
        out.append((reservation.granted, asked + reservation.wait))
    return out


def _assert_spaced(slots):
    starts = [start for granted, start in slots if granted]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # one interval apart; the tolerance only absorbs the round trip of each reservation
    assert all(abs(gap - INTERVAL) < 0.1 for gap in gaps), gaps


limiters = [
    pytest.param(DatabaseLimiter, marks=pytest.mark.django_db(transaction=True), id="database"),
    pytest.param(lambda: _redis_or_skip(), id="redis"),
]


@pytest.mark.parametrize("make", limiters)
def test_slots_are_spaced_by_the_interval(make):
    _assert_spaced(_reserve(make(), f"test-{uuid.uuid4().hex}", 6))


@pytest.mark.parametrize("make", limiters)
def test_slots_beyond_the_wait_limit_are_refused_without_reserving(make):
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    slots = _reserve(limiter, key, 5, max_wait=1.2)
    # waits 0, 0.5 and 1.0 s fit under 1.2 s; the next (1.5 s) is refused
    assert [granted for granted, _ in slots] == [True, True, True, False, False]
    asked = time.monotonic()
    following = limiter.reserve(key, RATE, 5.0)
    # the next granted slot follows the last granted one directly: refusals took no slot
    assert abs((asked + following.wait) - (slots[2][1] + INTERVAL)) < 0.1


@pytest.mark.django_db(transaction=True)
def test_keys_are_independent():
    limiter = DatabaseLimiter()
    _reserve(limiter, "a", 3)
    assert limiter.reserve("b", RATE, 5.0).wait < 0.1


@pytest.mark.parametrize("make", limiters)
def test_slots_carry_their_start_on_the_limiters_clock_exactly_one_interval_apart(make):
    """Callers time their calls by the slot's own start, not by a wait that is stale by the round trip."""
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    starts = [limiter.reserve(key, RATE, 60.0).at for _ in range(5)]
    assert all(abs((b - a) - INTERVAL) < 1e-3 for a, b in itertools.pairwise(starts)), starts
    assert abs(starts[0] - time.time()) < 5  # a wall-clock time, comparable across hosts


@pytest.mark.parametrize("make", limiters)
def test_a_lead_puts_the_slot_that_far_ahead_and_a_refusal_says_when_the_next_is_free(make):
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    asked = time.time()
    first = limiter.reserve(key, RATE, 5.0, lead=0.3)
    assert first.granted
    assert first.at - asked >= 0.29  # not before the lead
    refused = limiter.reserve(key, RATE, 0.1)  # the next free slot is 0.8 s away
    assert not refused.granted
    assert 0.6 < refused.wait <= 0.8


def test_a_host_whose_clock_is_far_off_times_by_the_wait_and_says_so(caplog, monkeypatch):
    from kyc import ratelimit
    from kyc.ratelimit import Reservation

    monkeypatch.setattr(ratelimit, "_clock_warned_at", -1e9)
    now = time.time()
    in_sync = Reservation(True, 0.2, now + 0.2).send_at() - time.monotonic()
    assert 0.15 < in_sync <= 0.2
    skewed = Reservation(True, 0.2, now + 3.2)  # this host's clock runs 3 s behind the limiter's
    with caplog.at_level("WARNING", logger="kyc.ratelimit"):
        assert 0.15 < skewed.send_at() - time.monotonic() <= 0.2  # the wait, not the 3 s
    assert "clock is" in caplog.text
    assert "ms off" in caplog.text


@pytest.mark.parametrize("make", limiters)
def test_an_idle_quota_warms_up_its_first_second_slower(make):
    """After idleness the first slot lasts 1.5 intervals, easing linearly to one interval over the
    warm-up; later slots are one interval apart."""
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    starts = [limiter.reserve(key, RATE, 60.0, warm_up=1.0).at for _ in range(5)]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # slot k starts t_k into the warm-up and lasts INTERVAL * (1 + 0.5 * (1 - t_k)) while t_k < 1
    expected, t = [], 0.0
    for _ in range(4):
        gap = INTERVAL * (1 + 0.5 * max(0.0, 1 - t))
        expected.append(gap)
        t += gap
    assert gaps == pytest.approx(expected, abs=0.01)
    assert gaps[0] == pytest.approx(0.75, abs=0.01)
    assert gaps[-1] == pytest.approx(INTERVAL, abs=0.01)


@pytest.mark.parametrize("make", limiters)
def test_a_busy_quota_does_not_warm_up_again_and_an_idle_one_does(make):
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    for _ in range(4):  # through the warm-up: the key's slots now run 1.5 s ahead
        limiter.reserve(key, RATE, 60.0, warm_up=1.0)
    a, b = (limiter.reserve(key, RATE, 60.0, warm_up=1.0).at for _ in range(2))
    assert b - a == pytest.approx(INTERVAL, abs=0.01)  # busy: full rate
    fast = f"test-{uuid.uuid4().hex}"  # a key idle for longer than its warm-up (a short one, for the test)
    limiter.reserve(fast, RATE, 60.0, warm_up=0.05)
    time.sleep(1.0)  # its next slot was due 0.75 s after the first (a warm-up slot): 0.25 s idle, five warm-ups
    c, d = (limiter.reserve(fast, RATE, 60.0, warm_up=0.05).at for _ in range(2))
    assert d - c == pytest.approx(INTERVAL * 1.5, abs=0.01)  # warming up again


@pytest.mark.parametrize("make", limiters)
def test_without_warm_up_slots_are_one_interval_apart_from_the_start(make):
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    starts = [limiter.reserve(key, RATE, 60.0).at for _ in range(3)]
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([INTERVAL, INTERVAL], abs=1e-3)


@pytest.mark.parametrize("make", limiters)
def test_peek_tells_how_far_ahead_a_key_is_booked_without_booking(make):
    limiter, key = make(), f"test-{uuid.uuid4().hex}"
    assert limiter.peek([key]) == {key: 0.0}  # never used: free now
    for _ in range(3):
        limiter.reserve(key, RATE, 60.0)
    ahead = limiter.peek([key, "never-used"])
    assert 1.3 < ahead[key] <= 1.5
    assert ahead["never-used"] == 0.0
    assert limiter.peek([key])[key] <= ahead[key]  # peeking took nothing


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reservation_alone_does_not_wait_for_the_disk_and_a_callers_transaction_still_does():
    """On its own, a reservation's transaction commits with ``synchronous_commit`` off (soft state); the
    setting is that transaction's only. Inside a caller's transaction it changes nothing of the caller's."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's commit setting")
    limiter = DatabaseLimiter()

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    key = f"t:{uuid.uuid4().hex}"
    limiter.reserve(key, 10.0, max_wait=5.0)  # creates the key's row: its own statements
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert limiter.reserve(key, 10.0, max_wait=5.0).granted
    assert "set_config('synchronous_commit', 'off', true)" in statements[-1]
    assert setting() == "on"  # the session's setting is untouched: it held for that transaction alone
    with transaction.atomic():
        with connection.execute_wrapper(spy):
            assert limiter.reserve(key, 10.0, max_wait=5.0).granted
        assert "set_config" not in statements[-1]
        assert setting() == "on"  # the caller's writes still wait for the disk
