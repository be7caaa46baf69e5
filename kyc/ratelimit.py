"""One rate limiter shared by every worker on every host, per vendor action and account.

GCRA with reservations: each caller atomically advances the key's theoretical arrival time (``tat``)
by ``1/rate`` and gets back how long to wait for its own slot, so calls start at least ``1/rate``
apart on the shared clock, whichever host makes them. No window of one second can then hold more
than ``ceil(rate)`` call starts. The database backend hands out slots on PostgreSQL's clock (a worker's
own clock never decides who gets which slot); on SQLite (one host) the writer lock serialises
reservations. With ``REDIS_URL`` set, a Lua script on Redis's clock does the same. Each granted slot
carries its start in epoch seconds, and workers send at that time by their own wall clock, so worker
hosts keep their clocks in sync (chrony), as RELIABILITY.md 1.4 asks.

Warm-up (Guava's SmoothWarmingUp): a key that has been idle for ``warm_up`` seconds starts again at
two-thirds of its rate and eases to the full rate over ``warm_up`` seconds. Calls leave less exactly on
time while a burst starts (new vendor connections, workers just forked, every process busy at once),
and calls arriving late then early would crowd one vendor window; spacing them wider while that
settles costs a fraction of a second of slots per start.
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


WARM_UP_SLOWDOWN = 0.5  # the first slot after idleness is 1.5 intervals long, easing to 1 over the warm-up


def _warm_factor(start: float, since: float, warm_up: float) -> float:
    """How many intervals the slot starting at ``start`` lasts, ``start - since`` into a warm-up."""
    if warm_up <= 0:
        return 1.0
    return 1.0 + WARM_UP_SLOWDOWN * max(0.0, 1.0 - (start - since) / warm_up)


class Limiter(Protocol):
    def reserve(self, key: str, rate: float, max_wait: float, lead: float = 0.0, warm_up: float = 0.0) -> Reservation:
        """A slot at least ``lead`` seconds ahead if one is free within ``max_wait``; ``warm_up``: see above."""
        ...

    def peek(self, keys: list[str]) -> dict[str, float]:
        """Seconds until each key's next free slot (0 when free now or never used); reserves nothing."""
        ...


class DatabaseLimiter:
    """GCRA on a ``kyc_ratelimitslot`` row. ``lead`` puts the slot at least that far ahead, so the caller
    can do its own work (claim the document, sign the request) before the slot starts, not after."""

    # Sent on its own (autocommit), the statement's transaction commits without waiting for its WAL to
    # reach the disk (``synchronous_commit`` off for that transaction alone, set by ``lazy``, which ``cur``
    # joins so that it runs): a reservation is soft state, as in Redis, which keeps nothing on disk. A
    # database crash may forget the last few hundred milliseconds of reservations, so for a moment after
    # its restart calls may be spaced closer than the quota (a vendor's RequestLimitExceeded is retried).
    # Inside a caller's transaction the setting would reach the caller's own writes: there ``lazy`` sets
    # nothing (``_PG_SQL`` without it). Every other write of the pipeline still waits for the disk.
    _PG_SQL_TEMPLATE = """
        WITH lazy AS (
            SELECT {lazy}
        ), cur AS (
            SELECT tat, warm_since, clock_timestamp() AS now FROM kyc_ratelimitslot, lazy
             WHERE key = %(key)s FOR UPDATE OF kyc_ratelimitslot
        ), asked AS (
            SELECT now, tat, warm_since, GREATEST(tat, now + make_interval(secs => %(lead)s)) AS start FROM cur
        ), slot AS (
            SELECT now, start,
                   CASE WHEN warm_since IS NULL OR tat < now - make_interval(secs => %(warm_up)s) THEN start
                        ELSE warm_since END AS since
              FROM asked
        )
        UPDATE kyc_ratelimitslot
           SET tat = slot.start + make_interval(secs => %(interval)s * (1 + %(slowdown)s * GREATEST(0.0,
                     1 - EXTRACT(EPOCH FROM (slot.start - slot.since))::float8 / NULLIF(%(warm_up)s, 0)))),
               warm_since = slot.since
          FROM slot
         WHERE key = %(key)s AND slot.start - slot.now <= make_interval(secs => %(max_wait)s)
     RETURNING EXTRACT(EPOCH FROM (slot.start - slot.now)), EXTRACT(EPOCH FROM slot.start)
    """
    _PG_SQL_LAZY = _PG_SQL_TEMPLATE.format(lazy="set_config('synchronous_commit', 'off', true)")
    _PG_SQL = _PG_SQL_TEMPLATE.format(lazy="1")
    _PG_AHEAD = "SELECT key, EXTRACT(EPOCH FROM (tat - clock_timestamp())) FROM kyc_ratelimitslot WHERE key = ANY(%s)"

    def __init__(self) -> None:
        self._known: set[str] = set()  # keys whose row exists: one query per reservation, not two

    def reserve(self, key: str, rate: float, max_wait: float, lead: float = 0.0, warm_up: float = 0.0) -> Reservation:
        interval = 1.0 / rate
        if key not in self._known:
            RateLimitSlot.objects.get_or_create(key=key, defaults={"tat": timezone.now()})
            self._known.add(key)
        reserve = self._reserve_pg if connection.vendor == "postgresql" else self._reserve_locked
        reservation = reserve(key, interval, max_wait, lead, warm_up)
        if reservation is None:  # the row went away (a restored or truncated table): make it again
            self._known.discard(key)
            return self.reserve(key, rate, max_wait, lead, warm_up)
        return reservation

    def peek(self, keys: list[str]) -> dict[str, float]:
        ahead = self._ahead(keys) if keys else {}
        return {key: max(0.0, ahead.get(key, 0.0)) for key in keys}

    def _ahead(self, keys: list[str]) -> dict[str, float]:
        """Seconds from now to each existing key's ``tat`` (negative when it has passed); a key without a
        row is left out."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(self._PG_AHEAD, [keys])
                return {key: float(seconds) for key, seconds in cursor.fetchall()}
        now = timezone.now()
        return {
            key: (tat - now).total_seconds()
            for key, tat in RateLimitSlot.objects.filter(key__in=keys).values_list("key", "tat")
        }

    def _reserve_pg(
        self, key: str, interval: float, max_wait: float, lead: float, warm_up: float
    ) -> Reservation | None:
        params: dict[str, str | float] = {
            "key": key,
            "interval": interval,
            "max_wait": max_wait,
            "lead": lead,
            "warm_up": warm_up,
            "slowdown": WARM_UP_SLOWDOWN,
        }
        # One statement, atomic by itself (its row lock serialises reservations): outside a transaction it
        # commits alone, one round trip instead of three with BEGIN and COMMIT around it.
        with connection.cursor() as cursor:
            cursor.execute(self._PG_SQL_LAZY if connection.get_autocommit() else self._PG_SQL, params)
            row = cursor.fetchone()
        if row is None:  # refused, or the row went away (None: the caller makes it again)
            ahead = self._ahead([key]).get(key)
            return None if ahead is None else Reservation(False, max(0.0, ahead))
        return Reservation(True, max(0.0, float(row[0])), float(row[1]))

    def _reserve_locked(
        self, key: str, interval: float, max_wait: float, lead: float, warm_up: float
    ) -> Reservation | None:
        with transaction.atomic():
            slot = RateLimitSlot.objects.select_for_update().filter(key=key).first()
            if slot is None:
                return None
            now = timezone.now()
            start = max(slot.tat, now + timedelta(seconds=lead))
            wait = (start - now).total_seconds()
            if wait > max_wait:
                return Reservation(False, max(0.0, (slot.tat - now).total_seconds()))
            if slot.warm_since is None or slot.tat < now - timedelta(seconds=warm_up):
                slot.warm_since = start  # the first slot after idleness starts the warm-up
            factor = _warm_factor(start.timestamp(), slot.warm_since.timestamp(), warm_up)
            slot.tat = start + timedelta(seconds=interval * factor)
            slot.save(update_fields=["tat", "warm_since"])
        return Reservation(True, wait, start.timestamp())


class RedisLimiter:
    """The same GCRA as a Lua script, on Redis's own clock."""

    _SCRIPT = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local interval, max_wait, lead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local warm_up, slowdown = tonumber(ARGV[4]), tonumber(ARGV[5])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        local since = tonumber(redis.call('GET', KEYS[2]) or -1)
        local start = math.max(tat, now + lead)
        if start - now > max_wait then return {0, tostring(math.max(0, tat - now))} end
        if since < 0 or tat < now - warm_up then since = start end
        local factor = 1
        if warm_up > 0 then factor = 1 + slowdown * math.max(0, 1 - (start - since) / warm_up) end
        redis.call('SET', KEYS[1], tostring(start + interval * factor), 'EX', 3600)
        redis.call('SET', KEYS[2], tostring(since), 'EX', 3600)
        return {1, tostring(start - now), tostring(start)}
    """

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._client.register_script(self._SCRIPT)

    def peek(self, keys: list[str]) -> dict[str, float]:
        if not keys:
            return {}
        with self._client.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.mget([f"kyc:ratelimit:{key}" for key in keys])
            (seconds, micros), values = pipe.execute()
        now = seconds + micros / 1_000_000
        return {key: max(0.0, float(value) - now) if value else 0.0 for key, value in zip(keys, values, strict=True)}

    def reserve(self, key: str, rate: float, max_wait: float, lead: float = 0.0, warm_up: float = 0.0) -> Reservation:
        keys = [f"kyc:ratelimit:{key}", f"kyc:ratelimit:{key}:warm"]
        answer = self._script(keys=keys, args=[1.0 / rate, max_wait, lead, warm_up, WARM_UP_SLOWDOWN])
        return Reservation(bool(answer[0]), float(answer[1]), float(answer[2]) if len(answer) > 2 else 0.0)


_limiter: Limiter | None = None


def limiter() -> Limiter:
    """The process's limiter: Redis when ``REDIS_URL`` is set, else the database."""
    global _limiter
    if _limiter is None:
        from django.conf import settings

        _limiter = RedisLimiter(settings.REDIS_URL) if settings.REDIS_URL else DatabaseLimiter()
    return _limiter
