"""Huawei Cloud OCR (v2 API) with either AK/SK signing or an IAM token.

Huawei took ``exit-entry-permit``, ``mainland-travel-permit`` and ``hk-id-card`` offline for new customers
in August 2024 (vendors.md section 0). They are implemented anyway for existing subscribers and private
deployments; a withdrawn endpoint answers ``APIG.0101`` or ``ModelArts.45xx``, which classify as
configuration errors. ``passport`` is live.

AK/SK signature failures are never retried: more than five in a row lock the key for five minutes.
An expired IAM token is refreshed once per call, never more.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from ocr_providers.base import OcrRequest, OcrResult, ProviderConfig
from ocr_providers.documents import DocumentType
from ocr_providers.exceptions import OcrError, OcrMisconfigured, OcrUnknownOutcome
from ocr_providers.http import HttpResponse, build_client, host_of, image_json_body
from ocr_providers.huawei import errors, signing
from ocr_providers.huawei.iam import IamToken, TokenCache
from ocr_providers.huawei.mapping import MAPPERS
from ocr_providers.normalise import Extraction, strip_images

__all__ = ["ENDPOINTS", "HuaweiOcrProvider"]

CONTENT_TYPE = "application/json;charset=utf-8"  # what the SDK sends (and signs)

ENDPOINTS: dict[DocumentType, str] = {
    DocumentType.EXIT_ENTRY_PERMIT: "exit-entry-permit",
    DocumentType.MAINLAND_TRAVEL_PERMIT: "mainland-travel-permit",
    DocumentType.CN_PASSPORT: "passport",
    DocumentType.HK_ID_CARD: "hk-id-card",
}
OFFLINE_SINCE_2024 = frozenset({"exit-entry-permit", "mainland-travel-permit", "hk-id-card"})


class HuaweiOcrProvider:
    """Huawei Cloud OCR: exit-entry-permit, mainland-travel-permit, passport and hk-id-card."""

    name = "huawei"

    def __init__(
        self,
        config: ProviderConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._http = build_client(config, vendor="huawei", transport=transport)
        self.tokens = TokenCache(config, self._http, clock) if self.auth_mode == "token" else None

    @property
    def auth_mode(self) -> str:
        """``aksk`` when an AK and SK are configured (preferred by IAM itself), ``token`` for an IAM user."""
        c = self.config
        if c.secret_id and c.secret_key:
            return "aksk"
        if c.iam_username and c.iam_password and c.iam_domain:
            return "token"
        return ""

    def recognize(self, request: OcrRequest) -> OcrResult:
        self._require_credentials()
        endpoint = self._endpoint_for(request)
        wire = self._http.wire_time()  # the IAM token's request, when one is made, counts as the vendor's time
        body = image_json_body("image", request.image, self._options(endpoint, request))
        response = self._call(endpoint, body, request.not_before, request.send_by)
        result = self._parse(response)
        extraction = MAPPERS[endpoint](result)
        rid = response.header("X-Request-Id")
        return self._result(request, endpoint, result, extraction, rid, (self._http.wire_time() - wire) * 1000)

    def close(self) -> None:
        self._http.close()

    def _require_credentials(self) -> None:
        if not self.auth_mode:
            raise OcrMisconfigured(
                "Huawei credentials missing: set HUAWEICLOUD_SDK_AK/SK/PROJECT_ID, or "
                "HUAWEICLOUD_IAM_USERNAME/PASSWORD/DOMAIN",
                code="missing_credentials",
            )
        if self.auth_mode == "aksk" and not self.config.project_id:
            raise OcrMisconfigured("AK/SK needs HUAWEICLOUD_SDK_PROJECT_ID", code="missing_credentials")

    @staticmethod
    def _endpoint_for(request: OcrRequest) -> str:
        name = request.action if request.action not in ("", "auto") else ""
        if not name and request.document_type is not None:
            name = ENDPOINTS[request.document_type]
        if name not in MAPPERS:
            raise OcrMisconfigured(
                f"unknown Huawei endpoint {name or '(none)'!r}; known: {sorted(MAPPERS)}",
                code="invalid_request",
            )
        return name

    def _options(self, endpoint: str, request: OcrRequest) -> dict[str, Any]:
        """The request body's members after the image."""
        if endpoint == "passport":
            # CHN: full-field recognition of a Chinese passport (GENERAL reads the MRZ only).
            return {"country_code": str(self.config.options.get("passport_country_code", "CHN"))}
        return {
            "return_portrait_image": request.return_portrait,
            "return_portrait_location": request.return_portrait_location,
        }

    def base_url(self) -> str:
        if self.config.endpoint:
            return self.config.endpoint.rstrip("/")
        return f"https://ocr.{self.config.region}.myhuaweicloud.com"

    def _call(self, endpoint: str, body: bytes, not_before: float = 0.0, send_by: float = 0.0) -> HttpResponse:
        deadline_at = self._http.deadline_from_now()
        if self.tokens is None:
            return self._send_signed(endpoint, body, deadline_at, not_before, send_by)
        token = self.tokens.get(deadline_at)
        response = self._send_with_token(endpoint, body, token, deadline_at, not_before, send_by)
        code, message, _ = errors.error_fields(response.body) if response.status >= 400 else ("", "", "")
        if errors.is_token_error(code, message):
            self.tokens.invalidate(token)  # refreshed once; a second refusal is surfaced as it is
            response = self._send_with_token(endpoint, body, self.tokens.get(deadline_at), deadline_at)
        return response

    def signed_headers(self, path: str, host: str, body: bytes) -> dict[str, str]:
        """Content-Type, Host, X-Project-Id, X-Sdk-Date (and X-Security-Token), signed into Authorization."""
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-Project-Id": self.config.project_id,
            "X-Sdk-Date": signing.sdk_date(self._clock()),
        }
        if self.config.session_token:  # temporary AK/SK: signed, as the SDK does
            headers["X-Security-Token"] = self.config.session_token
        headers["Authorization"] = signing.sign(
            ak=self.config.secret_id,
            sk=self.config.secret_key,
            method="POST",
            path=path,
            headers=headers,
            body=body,
        )
        return headers

    def _send_signed(
        self, endpoint: str, body: bytes, deadline_at: float, not_before: float, send_by: float
    ) -> HttpResponse:
        path = f"/v2/{self.config.project_id}/ocr/{endpoint}"
        url = self.base_url() + path
        headers = self.signed_headers(path, host_of(url), body)
        return self._post(url, body, headers, deadline_at, endpoint, not_before, send_by)

    def _send_with_token(
        self,
        endpoint: str,
        body: bytes,
        token: IamToken,
        deadline_at: float,
        not_before: float = 0.0,
        send_by: float = 0.0,
    ) -> HttpResponse:
        project = self.config.project_id or token.project_id
        url = f"{self.base_url()}/v2/{project}/ocr/{endpoint}"
        headers = {"Content-Type": CONTENT_TYPE, "X-Auth-Token": token.value}
        return self._post(url, body, headers, deadline_at, endpoint, not_before, send_by)

    def _post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        deadline_at: float,
        action: str,
        not_before: float,
        send_by: float = 0.0,
    ) -> HttpResponse:
        return self._http.post(
            url,
            content=body,
            headers=headers,
            deadline_at=deadline_at,
            action=action,
            request_id_header="X-Request-Id",
            not_before=not_before,
            send_by=send_by,
        )

    @staticmethod
    def _parse(response: HttpResponse) -> dict[str, Any]:
        rid = response.header("X-Request-Id")
        if not 200 <= response.status < 300:
            raise errors.classify(response.status, response.body, rid)
        try:
            result = json.loads(response.body)["result"]
            if not isinstance(result, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            error: OcrError = OcrUnknownOutcome(
                "Huawei answered 2xx with a body that is not a result envelope",
                code="malformed_response",
                http_status=response.status,
                request_id=rid,
            )
            raise error from None
        return result

    def _result(
        self,
        request: OcrRequest,
        endpoint: str,
        result: dict[str, Any],
        out: Extraction,
        rid: str,
        latency_ms: float,
    ) -> OcrResult:
        return OcrResult(
            provider=self.name,
            action=endpoint,
            document_type=out.document_type,
            side=out.side,
            fields=dict(out.fields),
            portraits=tuple(out.portraits) if request.return_portrait else (),
            warnings=tuple(out.warnings),
            request_id=rid,
            raw=strip_images({"result": result}),
            detected_type=request.document_type != out.document_type,
            latency_ms=latency_ms,
        )
