"""State the OCR pipeline shares between workers on every host."""

from __future__ import annotations

from django.db import models


class RateLimitSlot(models.Model):
    """GCRA state for one vendor action and account: ``tat`` is the theoretical arrival time of the
    next call. Workers reserve call slots spaced 1/rate apart by advancing it atomically.
    ``warm_since`` is when the key last came out of idleness: its first second's slots are spaced wider
    (kyc.ratelimit, warm-up)."""

    key = models.CharField(max_length=160, primary_key=True)
    tat = models.DateTimeField()
    warm_since = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return self.key


class ProviderState(models.Model):
    """A provider suspended after a configuration error (bad credentials, arrears, service off). No
    call goes to it until an operator resumes it; documents wait or use their fallback."""

    provider = models.CharField(max_length=32, primary_key=True)
    suspended = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    vendor_code = models.CharField(max_length=128, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OCR provider state"

    def __str__(self) -> str:
        return f"{self.provider} ({'suspended' if self.suspended else 'active'})"
