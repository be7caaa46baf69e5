"""The only code that writes audit events.

Events are chained: ``hash = SHA-256(prev_hash || canonical JSON of the event)``. There are ``CHAINS``
independent chains (RELIABILITY.md 3.2: one chain per shard, so no global serialisation point): a
case's events all go to the chain its id maps to. Appends to one chain are serialised (an advisory
transaction lock per chain on PostgreSQL; SQLite already serialises writers) so a chain never forks,
and ``(chain, seq)`` is unique as a second line of defence. A transaction writes all its events to one
chain (the first event's), so it never holds two chain locks and two transactions cannot deadlock.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from kyc import rows
from kyc.middleware import current_request_id
from kyc.models import AuditEvent

GENESIS = "0" * 64
CHAINS = 64
_CHAIN_LOCK_SPACE = 7310  # first key of the two-key advisory locks that name the chains
SYSTEM = "system"


def _canonical(event: AuditEvent) -> str:
    content = {
        "chain": event.chain,
        "seq": event.seq,
        "created_at": event.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_repr": event.actor_repr,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "case_id": str(event.case_id) if event.case_id else None,
        "request_id": event.request_id,
        "data": event.data,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256((event.prev_hash + _canonical(event)).encode()).hexdigest()


_HEAD = "SELECT seq, hash FROM kyc_auditevent WHERE chain = %s ORDER BY seq DESC LIMIT 1"
_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"


def _lock_chain_and_read_head(chain: int) -> tuple[int, str] | None:
    """Take the chain's lock (held to the end of the transaction) and read its head under it.

    On PostgreSQL both go in one round trip, each statement with its own snapshot under READ COMMITTED,
    so the head is read after the lock is granted and sees every event committed by the chain's previous
    holder: in pipeline mode (kyc.rows.fetch_together, with the transaction's deferred writes), or else as
    a query string of two statements (the simple query protocol, which psycopg uses for a query without
    parameters: the chain is an int, formatted in)."""
    if rows.pipelines():  # two statements in one round trip, with any writes waiting before them
        _, head = rows.fetch_together([(_LOCK, [_CHAIN_LOCK_SPACE, chain]), (_HEAD, [chain])])
        return _head(head[0] if head else None)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # integers only: no parameters, so the simple protocol
            both = f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK_SPACE:d}, {chain:d}); {_HEAD % f'{chain:d}'}"
            cursor.execute(both)
            cursor.nextset()
        else:  # SQLite serialises writers: the transaction that writes already holds the database
            cursor.execute(_HEAD, [chain])
        row = cursor.fetchone()
    return _head(row)


def _head(row: Any) -> tuple[int, str] | None:
    """``(seq, hash)`` of the chain's head from its row (``None``: the chain has no event yet)."""
    return (int(row[0]), str(row[1])) if row else None


def _chain_for(key: Any) -> int:
    """The chain of this transaction: the first event's key decides, later events follow it."""
    outer = connection.atomic_blocks[0]
    sticky = getattr(connection, "_kyc_audit_chain", None)
    if sticky is not None and sticky[0] is outer:
        return int(sticky[1])
    chain = int(hashlib.sha256(str(key).encode()).hexdigest()[:8], 16) % CHAINS
    connection._kyc_audit_chain = (outer, chain)  # type: ignore[attr-defined]
    transaction.on_commit(_forget_chain)
    return chain


def _forget_chain() -> None:
    connection._kyc_audit_chain = None  # type: ignore[attr-defined]


def _cached_head(chain: int) -> tuple[int, str] | None:
    """The chain's head as this transaction last wrote it, while that is still certain: the chain lock
    is held to the end of the transaction, and the marker callback that came with the event is still
    pending (Django drops pending callbacks when the transaction or the savepoint rolls back)."""
    cached = getattr(connection, "_kyc_audit_head", None)
    if cached is None or cached[0] != chain:
        return None
    if not _kept(cached[3]):
        return None
    return cached[1], cached[2]


def _remember_head(chain: int, seq: int, digest: str) -> None:
    connection._kyc_audit_head = (chain, seq, digest, _marker())  # type: ignore[attr-defined]


def actor_label(actor: User | None) -> str:
    return actor.get_username() if actor is not None else SYSTEM


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    case_id: Any = None,
    data: dict[str, Any] | None = None,
    actor_repr: str = "",
) -> AuditEvent:
    """Append one event in the caller's transaction (one is opened when there is none); inside
    ``audit_batch``, when the batch ends.

    ``action`` is namespaced and past tense (``document.image_viewed``). ``data`` must hold no personal
    data: ids, field names, statuses and keyed digests only.
    """
    # Inside a caller's transaction no savepoint is needed: a failure here fails the caller's work too.
    with transaction.atomic(savepoint=False):
        event = AuditEvent(
            chain=_chain_for(case_id or getattr(obj, "pk", "")),
            created_at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_repr=actor_repr or actor_label(actor),
            action=action,
            object_type=obj._meta.model_name if hasattr(obj, "_meta") else str(type(obj).__name__).lower(),
            object_id=str(obj.pk),
            case_id=case_id,
            request_id=current_request_id.get(),
            data=json.loads(json.dumps(data or {}, default=str)),
        )
        pending = getattr(connection, "_kyc_audit_batch", None)
        if pending is not None:
            pending.append((event, _marker()))
        else:
            _append([event])
        return event


def _marker() -> Any:
    """A no-op commit callback that tells whether the work recorded with it still stands: Django drops
    the callbacks of a savepoint that rolls back (``_kept``)."""

    def marker() -> None:
        return None

    transaction.on_commit(marker)
    return marker


def _kept(marker: Any) -> bool:
    return any(entry[1] is marker for entry in connection.run_on_commit)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Inside a transaction: the events recorded in the block are written when it ends, still in that
    transaction, with one chain lock and head read and one INSERT for them all. The chain's lock is then
    held from the end of the block to the commit, not through the rest of the caller's work, so the
    transactions that share a chain wait less for each other. If the block raises, its events are dropped
    with the rest of the transaction, and an event recorded in a savepoint that rolled back is dropped
    with it, as its row would have been. A batch inside a batch belongs to the outer one."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_batch() needs the caller's transaction")
    if getattr(connection, "_kyc_audit_batch", None) is not None:
        yield
        return
    pending: list[tuple[AuditEvent, Any]] = []  # each event with its savepoint marker
    connection._kyc_audit_batch = pending  # type: ignore[attr-defined]
    try:
        yield
    finally:
        connection._kyc_audit_batch = None  # type: ignore[attr-defined]
    kept = [event for event, marker in pending if _kept(marker)]
    if kept:
        _append(kept)


def audit_chain_ahead(key: Any) -> None:
    """Inside ``audit_batch`` with deferred writes (kyc.rows): take the transaction's chain lock (the
    chain of ``key``, which its events then all go to, as when the first event's key is ``key``) and
    read the chain's head with the transaction's next round trip, instead of in a round trip of their
    own when the batch ends. The lock is then held from that round trip to the commit. Elsewhere, or
    when the head is already known, nothing: the batch locks and reads at its end as usual."""
    if getattr(connection, "_kyc_audit_batch", None) is None:
        return
    chain = _chain_for(key)
    if _cached_head(chain) is not None:
        return

    def head(cursor: Any) -> None:
        _remember_head(chain, *(_head(cursor.fetchone()) or (0, GENESIS)))

    if rows.defer_read(_LOCK, [_CHAIN_LOCK_SPACE, chain], lambda cursor: None):
        rows.defer_read(_HEAD, [chain], head)


def fetch_then_chain(reads: Sequence[tuple[str, Sequence[Any]]], key: Any) -> list[list[tuple[Any, ...]]]:
    """Each read's rows, with the audit chain of ``key`` locked and its head read right after them, in the
    same round trip (inside ``audit_batch`` with deferred writes, so the transaction's events then need no
    round trip of their own to chain). The chain comes after the reads: a transaction that row-locks in
    them takes its locks in the order every transaction does (rows first, then the chain). Elsewhere, the
    reads alone (kyc.rows.fetch_together), and the chain is locked when the batch ends, as usual."""
    found: list[list[tuple[Any, ...]]] = [[] for _ in reads]
    deferred = getattr(connection, "_kyc_audit_batch", None) is not None
    for (sql, params), out in zip(reads, found, strict=True):
        deferred = deferred and rows.defer_read(sql, params, _into(out))  # all or none: one context decides
    if not deferred:
        return rows.fetch_together(reads)
    audit_chain_ahead(key)
    rows.send_pending()
    return found


def _into(out: list[tuple[Any, ...]]) -> Callable[[Any], None]:
    """A deferred read's callback that puts the statement's rows into ``out``."""
    return lambda cursor: out.extend(cursor.fetchall())


def _append(events: list[AuditEvent]) -> None:
    """Chain ``events`` (all of one transaction, so of one chain) after the chain's head and write them."""
    chain = events[0].chain
    last = _cached_head(chain)  # a second write in one transaction needs no lock or read
    if last is None:
        last = _lock_chain_and_read_head(chain)
    seq, digest = last if last else (0, GENESIS)
    for event in events:
        seq += 1
        event.seq, event.prev_hash = seq, digest
        event.hash = digest = event_hash(event)
    rows.insert_rows(events)
    _remember_head(chain, seq, digest)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_chain: int | None = None
    broken_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _walk(events: Iterator[AuditEvent]) -> ChainReport:
    """Events ordered by (chain, seq); each chain starts at seq 1 from the genesis hash."""
    chain, expected_seq, prev_hash, checked = None, 1, GENESIS, 0
    for event in events:
        if event.chain != chain:
            chain, expected_seq, prev_hash = event.chain, 1, GENESIS
        if event.seq != expected_seq:
            problem = f"expected event #{expected_seq}, found #{event.seq} (deleted?)"
            return ChainReport(checked, chain, event.seq, problem)
        if event.prev_hash != prev_hash:
            return ChainReport(checked, chain, event.seq, "prev_hash does not match the previous event's hash")
        if event_hash(event) != event.hash:
            return ChainReport(checked, chain, event.seq, "content does not match its hash (modified)")
        expected_seq, prev_hash, checked = event.seq + 1, event.hash, checked + 1
    return ChainReport(checked)


def audit_verify() -> ChainReport:
    """Walk every chain in order and name the first broken event."""
    return _walk(AuditEvent.objects.order_by("chain", "seq").iterator(chunk_size=2000))
