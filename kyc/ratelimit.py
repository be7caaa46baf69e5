"""One rate limiter shared by every worker on every host, per vendor action and account.

GCRA with reservations: each caller atomically advances the key's theoretical arrival time (``tat``)
by ``1/rate`` and gets back how long to wait for its own slot, so calls start at least ``1/rate``
apart on the shared clock, whichever host makes them. No window of one second can then hold more
than ``ceil(rate)`` call starts. The database backend hands out slots on PostgreSQL's clock (a worker's
own clock never decides who gets which slot); on SQLite (one host) the writer lock serialises
reservations. With ``REDIS_URL`` set, a Lua script on Redis's clock does the same. Each granted slot
carries its start in epoch seconds, and workers send at that time by their own wall clock, so worker
hosts keep their clocks in sync (chrony), as RELIABILITY.md 1.4 asks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone

from kyc.models import RateLimitSlot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    granted: bool
    # granted: seconds until the reserved slot starts; refused: seconds until the key's next free slot
    wait: float
    # granted: the slot's start on the limiter's wall clock (epoch seconds). A caller times its call by
    # this, not by ``wait``: ``wait`` is stale by however long the answer took to come back, and that
    # differs from worker to worker, which would crowd calls that the limiter spaced.
    at: float = 0.0

    def send_at(self) -> float:
        """The slot's start on this process's monotonic clock (hosts keep their clocks in sync). A host
        whose clock is far off the limiter's falls back to ``wait`` and says so in the log."""
        if not self.at:
            return time.monotonic() + self.wait
        ahead = self.at - time.time()
        off = ahead - self.wait  # minus (this host's clock error + the answer's way back)
        if abs(off) > CLOCK_TOLERANCE:
            _warn_clock(off)
            return time.monotonic() + self.wait
        return time.monotonic() + ahead


CLOCK_TOLERANCE = 0.5  # seconds; more than a round trip on a loaded host, far less than a badly set clock
_clock_warned_at = -1e9


def _warn_clock(off: float) -> None:
    global _clock_warned_at
    if time.monotonic() - _clock_warned_at < 600:
        return
    _clock_warned_at = time.monotonic()
    log.warning(
        "this host's clock is %.0f ms off the rate limiter's; vendor calls are timed less exactly until "
        "it is fixed (run chrony on every worker host)",
        -off * 1000,
    )


class Limiter(Protocol):
    def reserve(self, key: str, rate: float, max_wait: float, lead: float = 0.0) -> Reservation: ...


class DatabaseLimiter:
    """GCRA on a ``kyc_ratelimitslot`` row. ``lead`` puts the slot at least that far ahead, so the caller
    can do its own work (claim the document, sign the request) before the slot starts, not after."""

    _PG_SQL = """
        UPDATE kyc_ratelimitslot
           SET tat = GREATEST(tat, clock_timestamp() + make_interval(secs => %(lead)s))
                     + make_interval(secs => %(interval)s)
         WHERE key = %(key)s
           AND GREATEST(tat, clock_timestamp() + make_interval(secs => %(lead)s)) - clock_timestamp()
               <= make_interval(secs => %(max_wait)s)
     RETURNING EXTRACT(EPOCH FROM (tat - clock_timestamp())) - %(interval)s, EXTRACT(EPOCH FROM tat) - %(interval)s
    """
    _PG_PEEK = "SELECT EXTRACT(EPOCH FROM (tat - clock_timestamp())) FROM kyc_ratelimitslot WHERE key = %(key)s"

    def __init__(self) -> None:
        self._known: set[str] = set()  # keys whose row exists: one query per reservation, not two

    def reserve(self, key: str, rate: float, max_wait: float, lead: float = 0.0) -> Reservation:
        interval = 1.0 / rate
        if key not in self._known:
            RateLimitSlot.objects.get_or_create(key=key, defaults={"tat": timezone.now()})
            self._known.add(key)
        reserve = self._reserve_pg if connection.vendor == "postgresql" else self._reserve_locked
        reservation = reserve(key, interval, max_wait, lead)
        if reservation is None:  # the row went away (a restored or truncated table): make it again
            self._known.discard(key)
            return self.reserve(key, rate, max_wait, lead)
        return reservation

    def _reserve_pg(self, key: str, interval: float, max_wait: float, lead: float) -> Reservation | None:
        params: dict[str, str | float] = {"key": key, "interval": interval, "max_wait": max_wait, "lead": lead}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(self._PG_SQL, params)
            row = cursor.fetchone()
            if row is None:
                cursor.execute(self._PG_PEEK, params)
                row = cursor.fetchone()
                return None if row is None else Reservation(False, max(0.0, float(row[0])))
        return Reservation(True, max(0.0, float(row[0])), float(row[1]))

    def _reserve_locked(self, key: str, interval: float, max_wait: float, lead: float) -> Reservation | None:
        with transaction.atomic():
            slot = RateLimitSlot.objects.select_for_update().filter(key=key).first()
            if slot is None:
                return None
            now = timezone.now()
            start = max(slot.tat, now + timedelta(seconds=lead))
            wait = (start - now).total_seconds()
            if wait > max_wait:
                return Reservation(False, max(0.0, (slot.tat - now).total_seconds()))
            slot.tat = start + timedelta(seconds=interval)
            slot.save(update_fields=["tat"])
        return Reservation(True, wait, start.timestamp())


class RedisLimiter:
    """The same GCRA as a Lua script, on Redis's own clock."""

    _SCRIPT = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local interval, max_wait, lead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        local start = math.max(tat, now + lead)
        if start - now > max_wait then return {0, tostring(math.max(0, tat - now))} end
        redis.call('SET', KEYS[1], tostring(start + interval), 'EX', 3600)
        return {1, tostring(start - now), tostring(start)}
    """

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._client.register_script(self._SCRIPT)

    def reserve(self, key: str, rate: float, max_wait: float, lead: float = 0.0) -> Reservation:
        answer = self._script(keys=[f"kyc:ratelimit:{key}"], args=[1.0 / rate, max_wait, lead])
        return Reservation(bool(answer[0]), float(answer[1]), float(answer[2]) if len(answer) > 2 else 0.0)


_limiter: Limiter | None = None


def limiter() -> Limiter:
    """The process's limiter: Redis when ``REDIS_URL`` is set, else the database."""
    global _limiter
    if _limiter is None:
        from django.conf import settings

        _limiter = RedisLimiter(settings.REDIS_URL) if settings.REDIS_URL else DatabaseLimiter()
    return _limiter
