"""The emulator's Tencent side: TC3 verification and ``Response`` envelopes, as the real API answers.

Errors travel in HTTP 200 bodies. Checks run in the vendor's order: action, authorization header,
secret id, timestamp (5 minutes), signature, session token, then the per-action quota.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import uuid
from typing import Any

from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator.samples import PORTRAIT_B64
from ocr_providers.emulator.script import Answer, Fault, VendorError
from ocr_providers.emulator.state import EmulatorState, Incoming, Outgoing, Unreadable
from ocr_providers.tencent import signing

__all__ = ["ACTION_TYPES", "handle"]

ACTION_TYPES: dict[str, DocumentType] = {
    "PermitOCR": DocumentType.EXIT_ENTRY_PERMIT,
    "HKIDCardOCR": DocumentType.HK_ID_CARD,
    "PassportOCR": DocumentType.CN_PASSPORT,
    "MainlandPermitOCR": DocumentType.MAINLAND_TRAVEL_PERMIT,
    "MLIDPassportOCR": DocumentType.CN_PASSPORT,
}
# What a reader-backed answer says when the image holds no document (or another type than the action's).
UNREADABLE = "FailedOperation.OcrFailed"
NO_DOCUMENT = {
    "HKIDCardOCR": "FailedOperation.NoHKIDCard",
    "PassportOCR": "FailedOperation.NoPassport",
    "MLIDPassportOCR": "FailedOperation.NoPassport",
}
# Which request flag asks for a portrait, and where the portrait goes in the answer.
PORTRAIT_FLAGS = {
    "PermitOCR": ("CropPortrait", "PortraitImage"),
    "HKIDCardOCR": ("ReturnHeadImage", "HeadImage"),
    "PassportOCR": ("CropPortrait", "PortraitImageInfo"),
    "MainlandPermitOCR": ("RetProfile", "Profile"),
    "MLIDPassportOCR": ("RetImage", "Image"),
}
MAX_IMAGE_B64 = 10 * 1024 * 1024
AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;\-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)
MESSAGES = {
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. "
    "Please check your signature is correct.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.InvalidAuthorization": "Authorization header format error.",
    "AuthFailure.TokenFailure": "Token verification failed.",
    "InvalidAction": "The action requested was invalid.",
    "RequestLimitExceeded": "Your current request times equals to `{limit}` in a second, which exceeds the "
    "frequency limit `{limit}` for a second. Please reduce the frequency of calls.",
    "InternalError": "An internal error has occurred. Retry your request, but if the problem persists, "
    "contact us with details by filing a ticket.",
}
# Tencent's own error for each random vendor failure (``script.VENDOR_FAILURES``)
FAILURES = {
    "internal_error": VendorError("InternalError", MESSAGES["InternalError"]),
    "rate_limited": VendorError("RequestLimitExceeded", MESSAGES["RequestLimitExceeded"].format(limit=20)),
    "unreadable": VendorError("FailedOperation.ImageBlur", "The image is blurred."),
    "too_large": VendorError("FailedOperation.ImageSizeTooLarge", "The image is too large."),
}


def envelope(rid: str, **content: Any) -> Outgoing:
    body = json.dumps({"Response": {**content, "RequestId": rid}}, ensure_ascii=False).encode("utf-8")
    return Outgoing(200, body, {"Content-Type": "application/json"})


def error(rid: str, code: str, message: str = "", status: int | None = None) -> Outgoing:
    out = envelope(rid, Error={"Code": code, "Message": message or MESSAGES.get(code, code)})
    return Outgoing(status or 200, out.body, out.headers)


def _canonical(req: Incoming, signed: str) -> str:
    # content-type and host are used exactly as sent (as the SDK signs them); any other signed header
    # is lowercased, as in Tencent's newest documentation example.
    lines = []
    for name in signed.split(";"):
        value = req.headers.get(name, "")
        lines.append(f"{name}:{value if name in ('content-type', 'host') else value.strip().lower()}\n")
    return "\n".join(["POST", "/", "", "".join(lines), signed, signing.sha256_hex(req.body)])


def verify(state: EmulatorState, req: Incoming) -> tuple[str, str] | None:
    """``(code, message)`` of the first authentication failure, or ``None`` when the request is genuine."""
    m = AUTH_RE.match(req.headers.get("authorization", ""))
    if not m or not req.headers.get("x-tc-timestamp", "").isdigit():
        return "AuthFailure.InvalidAuthorization", ""
    credential = state.credentials.tencent.get(m["id"])
    if credential is None:
        return "AuthFailure.SecretIdNotFound", ""
    timestamp = int(req.headers["x-tc-timestamp"])
    if abs(state.clock() - timestamp) > 300:
        now = int(state.clock())
        return (
            "AuthFailure.SignatureExpire",
            f"Signature expired. Timestamp is {timestamp}, server time is {now}.",
        )
    to_sign = signing.string_to_sign(timestamp=timestamp, canonical=_canonical(req, m["signed"]))
    expected = signing.signature(credential[0], timestamp, to_sign)
    date_ok = m["date"] == signing.credential_date(timestamp) and m["service"] == "ocr"
    if not (date_ok and hmac.compare_digest(expected, m["sig"])):
        return "AuthFailure.SignatureFailure", ""
    if credential[1] and req.headers.get("x-tc-token", "") != credential[1]:
        return "AuthFailure.TokenFailure", ""
    return None


def _image(body: dict[str, Any]) -> tuple[bytes | None, str]:
    b64 = body.get("ImageBase64")
    if not b64 and body.get("ImageUrl"):
        return b"", ""  # URL mode: the emulator never downloads anything
    if not isinstance(b64, str) or not b64:
        return None, "InvalidParameterValue"
    if len(b64) > MAX_IMAGE_B64:
        return None, "FailedOperation.ImageSizeTooLarge"
    try:
        return base64.b64decode(b64, validate=True), ""
    except (binascii.Error, ValueError):
        return None, "FailedOperation.ImageDecodeFailed"


def handle(state: EmulatorState, req: Incoming) -> Outgoing | Fault:
    rid = str(uuid.uuid4())
    action = req.headers.get("x-tc-action", "")
    outcome = _handle(state, req, action, rid)
    label = outcome.kind if isinstance(outcome, Fault) else _code_of(outcome)
    state.record("tencent", action, f"fault:{label}" if isinstance(outcome, Fault) else label)
    return outcome


def _code_of(out: Outgoing) -> str:
    try:
        return str(json.loads(out.body)["Response"]["Error"]["Code"])
    except (KeyError, TypeError, ValueError):
        return "ok" if out.status == 200 else str(out.status)


def _handle(state: EmulatorState, req: Incoming, action: str, rid: str) -> Outgoing | Fault:
    if action not in ACTION_TYPES:
        return error(rid, "InvalidAction")
    failure = verify(state, req)
    if failure:
        return error(rid, *failure)
    if not state.quotas.admit(action, at=req.arrived):
        limit = int(state.quotas.limits[action])
        return error(rid, "RequestLimitExceeded", MESSAGES["RequestLimitExceeded"].format(limit=limit))
    try:
        body = json.loads(req.body)
        assert isinstance(body, dict)  # noqa: S101 - caught just below
    except (ValueError, AssertionError):
        return error(rid, "InvalidParameter", "The request body is not a JSON object.")
    image, problem = _image(body)
    if image is None:
        return error(rid, problem, f"{problem}: check ImageBase64.")
    return _reply(state, action, body, image, rid)


def _reply(state: EmulatorState, action: str, body: dict[str, Any], image: bytes, rid: str) -> Outgoing | Fault:
    reply = state.reply_for(action, FAILURES)
    if isinstance(reply, Fault):
        return reply
    if isinstance(reply, VendorError):
        return error(rid, reply.code, reply.message, reply.status)
    if isinstance(reply, Answer):
        return envelope(rid, **dict(reply.body))
    side = Side.BACK if body.get("CardSide") == "BACK" else Side.FRONT
    doc = ACTION_TYPES[action]
    if doc is not DocumentType.MAINLAND_TRAVEL_PERMIT:
        side = Side.FRONT
    try:
        answer = state.canonical_answer("tencent", action, image, doc, side)
    except Unreadable as exc:
        wrong = NO_DOCUMENT.get(action, "FailedOperation.ImageNoSpecifiedCard")
        return error(rid, wrong if exc.wrong_type else UNREADABLE)
    return envelope(rid, **_with_portrait(action, body, answer))


def _with_portrait(action: str, body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    flag, key = PORTRAIT_FLAGS[action]
    if not body.get(flag) or ("Name" in answer and not answer["Name"] and action == "MainlandPermitOCR"):
        return answer
    if key == "PortraitImageInfo":
        box = {"X": 40, "Y": 60, "Width": 120, "Height": 160}
        return {**answer, key: {"PortraitImage": PORTRAIT_B64, "ImageCoordinates": box}}
    return {**answer, key: PORTRAIT_B64}
