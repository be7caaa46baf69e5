"""IAM tokens for Huawei OCR (vendors.md B.3): password method, project scope, cached per identity.

A token lives 24 h; we keep it until shortly before ``expires_at`` (read from the body, never assumed),
refresh under a lock so that concurrent calls fetch it once, and let the provider drop it once after an
expired-token error.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ocr_providers.base import ProviderConfig
from ocr_providers.exceptions import OcrMisconfigured, OcrUnknownOutcome
from ocr_providers.http import VendorHttpClient
from ocr_providers.huawei.errors import classify

__all__ = ["IamToken", "TokenCache"]

# Refresh this long before expiry: an hour for real 24-h tokens, less for short-lived test tokens.
REFRESH_MARGIN = 3600.0
REFRESH_FRACTION = 0.1


@dataclass(frozen=True)
class IamToken:
    """One X-Subject-Token with its lifetime (epoch seconds) and the project it is scoped to."""

    value: str = field(repr=False)
    expires_at: float
    refresh_at: float
    project_id: str = ""


def _epoch(text: str) -> float:
    # IAM writes "2020-01-04T09:05:22.701000Z".
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class TokenCache:
    """Fetches and caches one IAM token for one (endpoint, domain, user, project)."""

    def __init__(self, config: ProviderConfig, http: VendorHttpClient, clock: Callable[[], float] = time.time):
        self.config = config
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._token: IamToken | None = None
        self.fetches = 0  # how many times IAM was called (tests assert on it)

    def get(self, deadline_at: float) -> IamToken:
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.refresh_at:
                token = self._token = self._fetch(deadline_at)
            return token

    def invalidate(self, stale: IamToken) -> None:
        """Drop ``stale`` unless another thread already replaced it."""
        with self._lock:
            if self._token is stale:
                self._token = None

    def _body(self) -> bytes:
        c = self.config
        scope = {"project": {"id": c.project_id}} if c.project_id else {"project": {"name": c.region}}
        user = {"name": c.iam_username, "password": c.iam_password, "domain": {"name": c.iam_domain}}
        identity = {"methods": ["password"], "password": {"user": user}}
        return json.dumps({"auth": {"identity": identity, "scope": scope}}).encode("utf-8")

    def _fetch(self, deadline_at: float) -> IamToken:
        self.fetches += 1
        url = self._endpoint() + "/v3/auth/tokens?nocatalog=true"
        headers = {"Content-Type": "application/json;charset=utf8"}
        response = self._http.post(url, content=self._body(), headers=headers, deadline_at=deadline_at, action="iam")
        if response.status != 201:
            raise self._error(response.status, response.body)
        return self._parse(response.header("X-Subject-Token"), response.body)

    def _endpoint(self) -> str:
        if self.config.iam_endpoint:
            return self.config.iam_endpoint.rstrip("/")
        return f"https://iam.{self.config.region}.myhuaweicloud.com"

    def _parse(self, value: str, body: bytes) -> IamToken:
        try:
            token = json.loads(body)["token"]
            expires, issued = (
                _epoch(token["expires_at"]),
                _epoch(token.get("issued_at") or token["expires_at"]),
            )
            project_id = str((token.get("project") or {}).get("id", ""))
        except (ValueError, KeyError, TypeError):
            raise OcrUnknownOutcome(
                "IAM answered 201 without a readable token body", code="malformed_response"
            ) from None
        if not value:
            raise OcrUnknownOutcome("IAM answered 201 without X-Subject-Token", code="malformed_response")
        margin = min(REFRESH_MARGIN, max(0.0, expires - issued) * REFRESH_FRACTION)
        return IamToken(value=value, expires_at=expires, refresh_at=expires - margin, project_id=project_id)

    @staticmethod
    def _error(status: int, body: bytes) -> Exception:
        error = classify(status, body)
        if status in (400, 401, 403):  # wrong user, password or domain: never retried in a loop
            return OcrMisconfigured(
                f"IAM refused the token request: {error.vendor_message or status}",
                code="bad_credentials",
                vendor_code=error.vendor_code,
                vendor_message=error.vendor_message,
                http_status=status,
            )
        return error
