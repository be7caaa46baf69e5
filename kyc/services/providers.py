"""OCR provider configuration and state shared by the pipeline: the effective routes and quotas, one
provider instance per process, the shared quota limiter, and providers suspended after a
configuration error."""

from __future__ import annotations

import hashlib
import logging
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from kyc.models import ProviderState
from kyc.routing import RouteStep, parse_quotas, parse_routes
from kyc.services.audit import audit_record
from ocr_providers import OcrError, OcrProvider

log = logging.getLogger(__name__)


def conf() -> dict[str, Any]:
    conf: dict[str, Any] = settings.KYC_OCR
    return conf


@lru_cache(maxsize=8)
def _routes(spec: str) -> dict[str, tuple[RouteStep, ...]]:
    return parse_routes(spec)


@lru_cache(maxsize=8)
def _quotas(spec: str) -> dict[str, float]:
    return parse_quotas(spec)


def routes() -> dict[str, tuple[RouteStep, ...]]:
    return _routes(conf()["routes"])


def quotas() -> dict[str, float]:
    return _quotas(conf()["quotas"])


_providers: dict[str, OcrProvider] = {}


def provider_for(name: str) -> OcrProvider:
    """One provider instance per process, so the offline engine and token caches load once."""
    if name not in _providers:
        from kyc.ocr_config import build_provider

        _providers[name] = build_provider(name)
    return _providers[name]


_suspended_cache: tuple[float, frozenset[str]] = (0.0, frozenset())
SUSPENDED_TTL = 2.0  # seconds a worker may keep calling a provider that another host just suspended


def suspended_providers() -> frozenset[str]:
    global _suspended_cache
    read_at, names = _suspended_cache
    if time.monotonic() - read_at > SUSPENDED_TTL:
        names = frozenset(ProviderState.objects.filter(suspended=True).values_list("provider", flat=True))
        _suspended_cache = (time.monotonic(), names)
    return names


def forget_suspended() -> None:
    global _suspended_cache
    _suspended_cache = (0.0, frozenset())


def quota_key(step: RouteStep) -> str:
    vendor = conf().get(step.provider, {})
    account = vendor.get("secret_id") or vendor.get("ak") or vendor.get("iam_username") or ""
    account_tag = hashlib.sha256(account.encode()).hexdigest()[:12]  # names the account, reveals nothing
    return f"{step}:{vendor.get('region', '')}:{account_tag}"


def quota_rate(step: RouteStep) -> float:
    """Calls per second our limiter allows this step (its quota times the configured share); 0: no quota."""
    rate = quotas().get(str(step))
    return rate * conf()["quota_share"] if rate else 0.0


LATE_TOLERANCE = 0.02  # seconds a call may at most leave after its slot; later, it takes a fresh slot


def late_tolerance() -> float:
    """How late (seconds) a call may leave after its quota slot: 20 ms, or a quarter of the share's
    slack when that is less. Slots ``1 / (share x quota)`` apart put ``quota + 1`` calls ``1 / share``
    seconds apart, so a vendor window over quota needs the first of them to arrive ``1 / share - 1``
    seconds later than the last (42 ms at a share of 0.96, 111 ms at 0.9). What the sender may add to
    that is this tolerance; the rest is left for the network and the vendor's own stamping."""
    share = float(conf()["quota_share"])
    return min(LATE_TOLERANCE, max(0.0, 1.0 / share - 1.0) / 4) if share > 0 else LATE_TOLERANCE


HORIZON_SLOTS = 4  # a quota's horizon holds at least this many of its slots, however slow the quota


def quota_horizon(rate: float) -> float:
    """How far ahead (seconds) a worker may hold a slot of a quota with this rate, and how far ahead the
    broker lets that quota's tasks through: ``KYC_OCR_QUOTA_HORIZON``, or four slots' worth when that is
    longer. Half a second is 2.4 slots of a 5/s quota: too thin a buffer of ready work, so its slots
    went unused whenever its tasks came a little irregularly."""
    horizon = float(conf()["quota_horizon"])
    return max(horizon, HORIZON_SLOTS / rate) if rate else horizon


def provider_suspend(*, provider: str, error: OcrError) -> None:
    """Stop calling a provider after a configuration error, and say so loudly."""
    state, _ = ProviderState.objects.select_for_update().get_or_create(provider=provider)
    if state.suspended:
        return
    state.suspended, state.reason, state.vendor_code = True, error.message[:500], error.vendor_code[:128]
    state.suspended_at = timezone.now()
    state.save()
    forget_suspended()
    audit_record(
        actor=None,
        action="provider.suspended",
        obj=state,
        data={"provider": provider, "code": error.code, "vendor_code": error.vendor_code},
    )
    log.error(
        "OCR provider %s suspended after a configuration error (%s %s); resume it in the admin once fixed",
        provider,
        error.code,
        error.vendor_code,
    )
