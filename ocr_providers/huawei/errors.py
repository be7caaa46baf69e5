"""Huawei error bodies -> our taxonomy (vendors.md B.6, B.7).

Huawei answers errors with HTTP 4xx/5xx and ``{"error_code", "error_msg"}`` (API Gateway adds
``request_id``); IAM and others use other shapes, accepted in the SDK's order. Without a code we fall
back to the HTTP status, as the SDK does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ocr_providers.exceptions import OcrError, OcrMisconfigured, OcrRejected, OcrUnavailable

__all__ = ["TOKEN_CODES", "classify", "error_fields", "is_token_error"]

R, F, C = OcrUnavailable, OcrRejected, OcrMisconfigured

EXACT: dict[str, tuple[type[OcrError], str]] = {
    "AIS.0101": (C, "invalid_request"),
    "AIS.0102": (F, "unreadable_image"),
    "AIS.0103": (F, "image_too_small"),  # 15-8192 px per side; too large is ModelArts.4104
    "AIS.0104": (F, "wrong_document_type"),  # "not supported or poor quality"
    "AIS.0105": (F, "unreadable_image"),
    "AIS.0122": (F, "several_documents"),
    "ModelArts.0203": (C, "bad_credentials"),
    "ModelArts.4101": (C, "bad_credentials"),
    "ModelArts.4102": (C, "bad_credentials"),
    "ModelArts.4103": (C, "bad_credentials"),
    "ModelArts.4104": (F, "image_too_large"),
    "ModelArts.4105": (C, "invalid_request"),
    "ModelArts.4106": (C, "account_in_arrears"),
    "ModelArts.6201": (C, "account_in_arrears"),
    "ModelArts.4201": (C, "invalid_request"),
    "ModelArts.4202": (C, "invalid_request"),
    "ModelArts.4203": (C, "not_authorised"),
    "ModelArts.4204": (C, "service_not_activated"),  # not subscribed in this region
    "ModelArts.4301": (R, "vendor_error"),
    "ModelArts.4302": (R, "vendor_error"),
    "ModelArts.4401": (R, "rate_limited"),
    "ModelArts.4402": (R, "vendor_busy"),
    "ModelArts.4403": (R, "vendor_busy"),
    "ModelArts.4502": (R, "vendor_error"),
    "ModelArts.4505": (R, "vendor_error"),
    "ModelArts.4503": (C, "service_not_activated"),  # expected for the endpoints taken offline in 2024
    "ModelArts.4504": (C, "service_not_activated"),
    "ModelArts.4506": (C, "service_not_activated"),
    "ModelArts.4508": (C, "service_not_activated"),
    "ModelArts.4601": (F, "unreadable_image"),
    "ModelArts.4603": (F, "unreadable_image"),
    "APIG.0101": (C, "service_not_activated"),  # API not published here: wrong region or offline endpoint
    "APIG.0201": (R, "vendor_busy"),  # backend timeout; Huawei says resend after 2-5 s
    "APIG.0301": (C, "bad_credentials"),
    "APIG.0307": (C, "token_expired"),
    "APIG.0308": (R, "rate_limited"),
}

# Codes after which a cached IAM token is dropped and fetched again, once.
TOKEN_CODES = frozenset({"APIG.0307", "ModelArts.0203", "ModelArts.4101", "ModelArts.4102", "ModelArts.4103"})

_RETRY_AFTER = {"APIG.0308": 3.0, "APIG.0201": 3.0}  # the docs' "retry after 2-5 s"


def error_fields(body: bytes) -> tuple[str, str, str]:
    """(code, message, request id) from any of the error shapes the SDK accepts; empty when none."""
    try:
        data = json.loads(body)
    except ValueError:
        return "", "", ""
    if not isinstance(data, Mapping):
        return "", "", ""
    found = _code_and_message(data)
    if not found[0]:
        nested = next((v for v in data.values() if isinstance(v, Mapping)), None)
        found = _code_and_message(nested) if nested is not None else found
    return found[0], found[1], str(data.get("request_id", ""))


def _code_and_message(data: Mapping[str, Any]) -> tuple[str, str]:
    for code_key, msg_key in (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")):
        if data.get(code_key) not in (None, ""):
            return str(data[code_key]), str(data.get(msg_key, ""))
    return "", ""


def is_token_error(code: str, message: str) -> bool:
    """True for the errors after which a fresh IAM token may help (refresh once, never more)."""
    if code in TOKEN_CODES:
        return True
    return code == "APIG.0301" and "token" in message.lower()


def _by_status(status: int) -> tuple[type[OcrError], str]:
    if status == 429:
        return R, "rate_limited"
    if status >= 500:
        return R, "vendor_error"
    if status in (401, 403):
        return C, "bad_credentials"
    return C, "invalid_request"


def _refine(code: str, message: str, found: tuple[type[OcrError], str]) -> tuple[type[OcrError], str]:
    text = message.lower()
    if code == "APIG.0301" and "signature expired" in text:
        return C, "clock_skew"
    if code == "APIG.0301" and "verify aksk signature fail" in text:
        return C, "bad_signature"
    if code == "APIG.0301" and "limit" in text:  # "AK access failed to reach the limit,forbidden": locked
        return C, "credentials_locked"
    if code == "APIG.0301" and "token" in text:
        return C, "token_expired"
    return found


def classify(status: int, body: bytes, header_request_id: str = "") -> OcrError:
    """The ``OcrError`` for one non-2xx Huawei answer, keeping the vendor's code and message."""
    code, message, request_id = error_fields(body)
    cls, ours = _refine(code, message, EXACT.get(code) or _by_status(status))
    return cls(
        f"Huawei {code or status}: {message or 'no error body'}",
        code=ours,
        vendor_code=code or str(status),
        vendor_message=message,
        request_id=header_request_id or request_id,
        retry_after=_RETRY_AFTER.get(code),
        http_status=status,
    )
