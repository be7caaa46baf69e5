"""Template context for the back office: alerts an operator must not miss."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kyc.models import ProviderState


def ocr_alerts(request: HttpRequest) -> dict[str, Any]:
    """Suspended OCR providers, on every staff page (one indexed query, staff only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {}
    return {"ocr_suspended": list(ProviderState.objects.filter(suspended=True).only("provider", "vendor_code"))}
