"""OCR routing and quota configuration, parsed from the environment (pure; no database).

``KYC_OCR_ROUTES``: comma-separated ``TYPE=PROVIDER:ACTION[>PROVIDER:ACTION]``, e.g.
``hk_id_card=tencent:HKIDCardOCR>local:auto``. Types not named go to the offline engine.
``KYC_OCR_QUOTAS``: comma-separated ``PROVIDER:ACTION=N`` calls per second, e.g. ``tencent:PermitOCR=10``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from ocr_providers import PROVIDERS
from ocr_providers.documents import DocumentType

DEFAULT_STEP_TEXT = "local:auto"
_STEP = re.compile(r"^([a-z][a-z0-9_]*):([A-Za-z0-9_.\-]+)$")


@dataclass(frozen=True)
class RouteStep:
    provider: str
    action: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.action}"


def _parse_step(text: str, where: str) -> RouteStep:
    match = _STEP.match(text.strip())
    if not match:
        raise ImproperlyConfigured(f"{where}: {text!r} is not PROVIDER:ACTION")
    provider, action = match.groups()
    if provider not in PROVIDERS:
        raise ImproperlyConfigured(f"{where}: unknown provider {provider!r}; known: {', '.join(sorted(PROVIDERS))}")
    return RouteStep(provider, action)


def parse_routes(spec: str) -> dict[str, tuple[RouteStep, ...]]:
    """Every document type mapped to its steps (primary first, then fallbacks)."""
    default = (_parse_step(DEFAULT_STEP_TEXT, "default route"),)
    routes: dict[str, tuple[RouteStep, ...]] = {t.value: default for t in DocumentType}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        type_code, sep, chain = item.partition("=")
        if not sep or type_code.strip() not in routes:
            raise ImproperlyConfigured(
                f"KYC_OCR_ROUTES: {item!r} must be TYPE=PROVIDER:ACTION with TYPE one of {', '.join(routes)}"
            )
        steps = tuple(_parse_step(step, f"KYC_OCR_ROUTES {type_code}") for step in chain.split(">"))
        routes[type_code.strip()] = steps
    return routes


def parse_quotas(spec: str) -> dict[str, float]:
    """``{"provider:action": calls_per_second}``."""
    quotas: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or rate <= 0:
            raise ImproperlyConfigured(f"KYC_OCR_QUOTAS: {item!r} must be PROVIDER:ACTION=N with N > 0")
        quotas[str(_parse_step(key, "KYC_OCR_QUOTAS"))] = rate
    return quotas
