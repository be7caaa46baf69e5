"""The one bridge from Django settings to ``ocr_providers``: ``settings.KYC_OCR`` -> ``ProviderConfig``.

``ocr_providers`` never reads settings or the environment; everything it needs arrives here, once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ocr_providers import OcrProvider, ProviderConfig, get_provider

__all__ = ["build_provider", "provider_config"]


def _common(ocr: dict[str, Any]) -> dict[str, Any]:
    return {
        "connect_timeout": float(ocr.get("connect_timeout", 5.0)),
        "read_timeout": float(ocr.get("read_timeout", 30.0)),
        "deadline": float(ocr.get("deadline", 45.0)),
    }


def _tencent(section: dict[str, Any]) -> dict[str, Any]:
    return {
        "endpoint": section.get("endpoint", ""),
        "region": section.get("region", ""),
        "secret_id": section.get("secret_id", ""),
        "secret_key": section.get("secret_key", ""),
        "session_token": section.get("session_token", ""),
    }


def _huawei(section: dict[str, Any]) -> dict[str, Any]:
    return {
        "endpoint": section.get("endpoint", ""),
        "region": section.get("region", ""),
        "secret_id": section.get("ak", ""),
        "secret_key": section.get("sk", ""),
        "project_id": section.get("project_id", ""),
        "iam_endpoint": section.get("iam_endpoint", ""),
        "iam_username": section.get("iam_username", ""),
        "iam_password": section.get("iam_password", ""),
        "iam_domain": section.get("iam_domain", ""),
    }


_VENDORS = {"tencent": _tencent, "huawei": _huawei}


def provider_config(name: str) -> ProviderConfig:
    """The ``ProviderConfig`` for provider ``name`` from ``settings.KYC_OCR`` (secrets stay out of repr)."""
    ocr: dict[str, Any] = settings.KYC_OCR
    found = ocr.get(name)
    section: dict[str, Any] = found if isinstance(found, dict) else {}
    specific = _VENDORS[name](section) if name in _VENDORS else {"options": dict(section)}
    return ProviderConfig(name=name, **_common(ocr), **specific)


def build_provider(name: str) -> OcrProvider:
    """A ready provider for ``name`` (``tencent``, ``huawei``, or any other registered one)."""
    return get_provider(name, provider_config(name))
