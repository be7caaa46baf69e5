"""The audit trail: append-only, hash-chained events written only by ``kyc.services.audit``."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One thing that happened. ``data`` holds ids, field names and keyed digests, never personal data.

    Each event carries ``prev_hash`` (the previous event's hash in its ``chain``) and its own ``hash``
    over a canonical form of its content, so any edit, deletion or reordering breaks the chain at a
    nameable event. A case's events share one chain; there are several chains so that appends on
    different cases do not wait for each other.
    On PostgreSQL a trigger makes the table refuse UPDATE, DELETE and TRUNCATE.
    """

    chain = models.PositiveSmallIntegerField(default=0)
    seq = models.BigIntegerField()
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    actor_repr = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64, db_index=True)
    # Plain ids, not foreign keys: the trail must outlive the rows it speaks of (erasure, retention).
    case_id = models.UUIDField(null=True, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_seq_per_chain")]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action} {self.object_type}:{self.object_id}"
