"""The shared limiter hands out call slots spaced 1/rate apart, in the database and in Redis."""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

from kyc.ratelimit import DatabaseLimiter, RedisLimiter

REDIS_URL = os.environ.get("KYC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip():
    limiter = RedisLimiter(REDIS_URL)
    try:
        limiter._client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return limiter


def _slots(limiter, key, rate, n, max_wait=60.0):
    return [limiter.reserve(key, rate, max_wait) for _ in range(n)]


def _assert_spaced(reservations, interval):
    assert all(r.granted for r in reservations)
    waits = [r.wait for r in reservations]
    gaps = [b - a for a, b in itertools.pairwise(waits)]
    # Each reservation is one slot later than the one before (minus the moments spent reserving).
    assert all(interval * 0.8 <= gap <= interval * 1.05 for gap in gaps), gaps


@pytest.mark.django_db(transaction=True)
def test_database_slots_are_spaced_by_the_interval():
    _assert_spaced(_slots(DatabaseLimiter(), "tencent:PermitOCR:test", 10.0, 12), 0.1)


@pytest.mark.django_db(transaction=True)
def test_database_refuses_slots_beyond_the_wait_limit_without_reserving():
    limiter = DatabaseLimiter()
    granted = _slots(limiter, "k", 2.0, 3, max_wait=0.75)  # waits 0, 0.5, then 1.0 > 0.75
    assert [r.granted for r in granted] == [True, True, False]
    assert limiter.reserve("k", 2.0, 5.0).wait == pytest.approx(1.0, abs=0.1)  # the refused one took no slot


@pytest.mark.django_db(transaction=True)
def test_keys_are_independent():
    limiter = DatabaseLimiter()
    _slots(limiter, "a", 1.0, 3)
    assert limiter.reserve("b", 1.0, 5.0).wait == pytest.approx(0.0, abs=0.05)


def test_redis_slots_are_spaced_by_the_interval():
    limiter = _redis_or_skip()
    _assert_spaced(_slots(limiter, f"test-{uuid.uuid4().hex}", 20.0, 15), 0.05)


def test_redis_refuses_beyond_the_wait_limit():
    limiter = _redis_or_skip()
    key = f"test-{uuid.uuid4().hex}"
    assert [r.granted for r in _slots(limiter, key, 2.0, 3, max_wait=0.75)] == [True, True, False]
