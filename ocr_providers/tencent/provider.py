"""Tencent Cloud OCR over API 3.0 (version 2018-11-19), signed with TC3-HMAC-SHA256.

No SDK at run time: the body is serialised once (``json.dumps`` defaults, as the SDK does), hashed, signed
and sent as those exact bytes. Business errors arrive in HTTP 200 bodies under ``Response.Error``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ocr_providers.base import OcrRequest, OcrResult, ProviderConfig
from ocr_providers.documents import DocumentType, Side
from ocr_providers.exceptions import OcrError, OcrMisconfigured, OcrUnknownOutcome
from ocr_providers.http import HttpResponse, build_client, host_of, image_json_body
from ocr_providers.normalise import Extraction, strip_images
from ocr_providers.tencent import errors, signing
from ocr_providers.tencent.mapping import MAPPERS

__all__ = ["ACTIONS", "TencentOcrProvider"]

logger = logging.getLogger("ocr_providers.tencent")

MAINLAND_ENDPOINT = "https://ocr.tencentcloudapi.com"
INTL_ENDPOINT = "https://ocr.intl.tencentcloudapi.com"
API_VERSION = "2018-11-19"
CONTENT_TYPE = "application/json"  # lowercase and untrimmed-safe: the SDK signs the value as sent


@dataclass(frozen=True)
class Action:
    """One Tencent action: the site whose host serves it and the request flags it takes."""

    name: str
    site: str  # "mainland" or "intl"
    flags: Callable[[OcrRequest], dict[str, Any]]


def _mainland_permit_flags(r: OcrRequest) -> dict[str, Any]:
    # CardSide BACK exists only for the Mainland Travel Permit (the HKID name and number).
    return {"RetProfile": r.return_portrait, "CardSide": "BACK" if r.side is Side.BACK else "FRONT"}


ACTIONS: dict[str, Action] = {
    "PermitOCR": Action("PermitOCR", "mainland", lambda r: {"CropPortrait": r.return_portrait}),
    "HKIDCardOCR": Action("HKIDCardOCR", "intl", lambda r: {"ReturnHeadImage": r.return_portrait, "DetectFake": True}),
    "PassportOCR": Action("PassportOCR", "mainland", lambda r: {"Type": "CN", "CropPortrait": r.return_portrait}),
    "MainlandPermitOCR": Action("MainlandPermitOCR", "mainland", _mainland_permit_flags),
    "MLIDPassportOCR": Action("MLIDPassportOCR", "intl", lambda r: {"RetImage": r.return_portrait}),
}

# The current (non-legacy) action for each document type; PermitOCR and PassportOCR are renewal-only on
# the Chinese site (vendors.md section 0) and are used only when asked for by name.
DEFAULT_ACTIONS: dict[DocumentType, str] = {
    DocumentType.EXIT_ENTRY_PERMIT: "MainlandPermitOCR",
    DocumentType.MAINLAND_TRAVEL_PERMIT: "MainlandPermitOCR",
    DocumentType.HK_ID_CARD: "HKIDCardOCR",
    DocumentType.CN_PASSPORT: "MLIDPassportOCR",
}


class TencentOcrProvider:
    """Tencent Cloud OCR: PermitOCR, HKIDCardOCR, PassportOCR, MainlandPermitOCR, MLIDPassportOCR."""

    name = "tencent"

    def __init__(
        self,
        config: ProviderConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._http = build_client(config, vendor="tencent", transport=transport)

    def recognize(self, request: OcrRequest) -> OcrResult:
        self._require_credentials()
        action = self._action_for(request)
        wire = self._http.wire_time()
        body = image_json_body("ImageBase64", request.image, action.flags(request))  # hashed and sent as-is
        payload = self._call(action, body, request.not_before, request.send_by)
        extraction = MAPPERS[action.name](payload, request.side)
        return self._result(request, action, payload, extraction, (self._http.wire_time() - wire) * 1000)

    def close(self) -> None:
        self._http.close()

    def _require_credentials(self) -> None:
        if not (self.config.secret_id and self.config.secret_key):
            raise OcrMisconfigured(
                "Tencent credentials missing: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY",
                code="missing_credentials",
            )

    def _action_for(self, request: OcrRequest) -> Action:
        name = request.action if request.action not in ("", "auto") else ""
        if not name and request.document_type is not None:
            if (request.document_type, request.side) == (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK):
                raise OcrMisconfigured(
                    "Tencent offers no action for the endorsement side of the exit-entry permit",
                    code="unsupported_by_provider",
                )
            name = DEFAULT_ACTIONS[request.document_type]
        if name not in ACTIONS:
            raise OcrMisconfigured(
                f"unknown Tencent action {name or '(none)'!r}; known: {sorted(ACTIONS)}",
                code="invalid_request",
            )
        return ACTIONS[name]

    def endpoint_for(self, action: Action) -> str:
        """KYC_TENCENT_ENDPOINT when set (private deployments, the emulator), else the action's site host."""
        if self.config.endpoint:
            return self.config.endpoint.rstrip("/")
        site = str(self.config.options.get("site", action.site))
        return INTL_ENDPOINT if site == "intl" else MAINLAND_ENDPOINT

    def headers(self, action: Action, host: str, body: bytes, timestamp: int) -> dict[str, str]:
        """Every header of one attempt; only Content-Type and Host are signed (as by the SDK)."""
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action.name,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Language": "en-US",
        }
        if self.config.region:
            headers["X-TC-Region"] = self.config.region
        if self.config.session_token:  # temporary (STS) credentials; not part of the signature
            headers["X-TC-Token"] = self.config.session_token
        headers["Authorization"] = signing.sign(
            secret_id=self.config.secret_id,
            secret_key=self.config.secret_key,
            host=host,
            content_type=CONTENT_TYPE,
            body=body,
            timestamp=timestamp,
        )
        return headers

    def _call(self, action: Action, body: bytes, not_before: float = 0.0, send_by: float = 0.0) -> dict[str, Any]:
        url = self.endpoint_for(action) + "/"
        host = host_of(url)
        deadline_at = self._http.deadline_from_now()
        for attempt in (1, 2):
            headers = self.headers(action, host, body, int(self._clock()))  # re-signed on every attempt
            response = self._http.post(
                url,
                content=body,
                headers=headers,
                deadline_at=deadline_at,
                action=action.name,
                not_before=not_before,
                send_by=send_by if attempt == 1 else 0.0,
            )
            try:
                payload = self._parse(response)
                logger.info("tencent %s RequestId=%s", action.name, _rid(payload))  # Tencent support needs it
                return payload
            except OcrError as exc:
                logger.info("tencent %s failed: %s RequestId=%s", action.name, exc.vendor_code, exc.request_id)
                if not isinstance(exc, OcrMisconfigured):
                    raise
                # SignatureExpire: vendors.md A.6 allows one retry with a fresh timestamp; a second one
                # means our clock is off, which is an operator's problem.
                if exc.vendor_code != "AuthFailure.SignatureExpire" or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _parse(response: HttpResponse) -> dict[str, Any]:
        if response.status != 200:
            raise errors.from_http_status(response.status)
        try:
            envelope = json.loads(response.body)
            payload = envelope["Response"]
            assert isinstance(payload, dict)  # noqa: S101 - narrowed for the type checker, caught below
        except (ValueError, KeyError, TypeError, AssertionError):
            raise OcrUnknownOutcome(
                "Tencent answered HTTP 200 with a body that is not a Response envelope",
                code="malformed_response",
                http_status=200,
            ) from None
        error = payload.get("Error")
        if isinstance(error, dict):
            raise errors.classify(str(error.get("Code", "")), str(error.get("Message", "")), _rid(payload))
        return payload

    def _result(
        self, request: OcrRequest, action: Action, payload: dict[str, Any], out: Extraction, latency_ms: float
    ) -> OcrResult:
        return OcrResult(
            provider=self.name,
            action=action.name,
            document_type=out.document_type,
            side=out.side,
            fields=dict(out.fields),
            portraits=tuple(out.portraits) if request.return_portrait else (),
            warnings=tuple(out.warnings),
            request_id=_rid(payload),
            raw=strip_images(payload),
            detected_type=request.document_type != out.document_type,
            latency_ms=latency_ms,
        )


def _rid(payload: dict[str, Any]) -> str:
    return str(payload.get("RequestId", ""))
