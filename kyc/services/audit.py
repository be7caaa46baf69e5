"""The only code that writes audit events.

Events are chained: ``hash = SHA-256(prev_hash || canonical JSON of the event)``. Appends are serialised
(an advisory transaction lock on PostgreSQL; SQLite already serialises writers) so the chain has no
forks, and ``seq`` is unique as a second line of defence.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from kyc.middleware import current_request_id
from kyc.models import AuditEvent

GENESIS = "0" * 64
_CHAIN_LOCK_ID = 7_310_244_001  # arbitrary constant naming the audit chain's advisory lock
SYSTEM = "system"


def _canonical(event: AuditEvent) -> str:
    content = {
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


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])


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
    """Append one event in the caller's transaction (one is opened when there is none).

    ``action`` is namespaced and past tense (``document.image_viewed``). ``data`` must hold no personal
    data: ids, field names, statuses and keyed digests only.
    """
    # Inside a caller's transaction no savepoint is needed: a failure here fails the caller's work too.
    with transaction.atomic(savepoint=False):
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event = AuditEvent(
            seq=seq,
            created_at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_repr=actor_repr or actor_label(actor),
            action=action,
            object_type=obj._meta.model_name if hasattr(obj, "_meta") else str(type(obj).__name__).lower(),
            object_id=str(obj.pk),
            case_id=case_id,
            request_id=current_request_id.get(),
            data=json.loads(json.dumps(data or {}, default=str)),
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _walk(events: Iterator[AuditEvent]) -> ChainReport:
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(checked, event.seq, f"expected event #{expected_seq}, found #{event.seq} (deleted?)")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, "prev_hash does not match the previous event's hash")
        if event_hash(event) != event.hash:
            return ChainReport(checked, event.seq, "content does not match its hash (modified)")
        expected_seq, prev_hash, checked = event.seq + 1, event.hash, checked + 1
    return ChainReport(checked)


def audit_verify() -> ChainReport:
    """Walk the whole chain in order and name the first broken event."""
    return _walk(AuditEvent.objects.order_by("seq").iterator(chunk_size=2000))
