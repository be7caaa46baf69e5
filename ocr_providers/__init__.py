"""Vendor adapter layer: never imports django or kyc.

``get_provider(name, config)`` returns a provider from the registry; modules load lazily so that a
deployment without the offline engine's dependencies can still use the cloud vendors.
"""

from __future__ import annotations

from importlib import import_module

from ocr_providers.base import OcrField, OcrProvider, OcrRequest, OcrResult, Portrait, ProviderConfig
from ocr_providers.documents import DocumentType, Side
from ocr_providers.exceptions import (
    FAILED_CODES,
    UNREADABLE_CODES,
    OcrError,
    OcrMisconfigured,
    OcrRejected,
    OcrUnavailable,
    OcrUnknownOutcome,
)

__all__ = [
    "FAILED_CODES",
    "PROVIDERS",
    "UNREADABLE_CODES",
    "DocumentType",
    "OcrError",
    "OcrField",
    "OcrMisconfigured",
    "OcrProvider",
    "OcrRejected",
    "OcrRequest",
    "OcrResult",
    "OcrUnavailable",
    "OcrUnknownOutcome",
    "Portrait",
    "ProviderConfig",
    "Side",
    "get_provider",
]

# name -> "module:Class"; imported on first use.
PROVIDERS: dict[str, str] = {
    "tencent": "ocr_providers.tencent:TencentOcrProvider",
    "huawei": "ocr_providers.huawei:HuaweiOcrProvider",
    "local": "ocr_providers.local.provider:LocalOcrProvider",
}


def get_provider(name: str, config: ProviderConfig | None = None) -> OcrProvider:
    """Build the provider registered as ``name`` with ``config`` (a default config when omitted)."""
    try:
        target = PROVIDERS[name]
    except KeyError:
        raise OcrMisconfigured(f"unknown OCR provider {name!r}; known: {sorted(PROVIDERS)}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(import_module(module_name), class_name)
    provider: OcrProvider = cls(config or ProviderConfig(name=name))
    return provider
