"""The emulator's Huawei side: IAM tokens, API Gateway AK/SK verification and OCR ``result`` envelopes.

Like the gateway it locks an AK for five minutes after more than five consecutive signature failures,
rejects an ``X-Sdk-Date`` more than 15 minutes off, answers expired tokens with ``APIG.0307`` and
throttling with ``APIG.0308``. Every answer carries ``X-Request-Id``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator.samples import PORTRAIT_B64
from ocr_providers.emulator.script import Answer, Fault, VendorError
from ocr_providers.emulator.state import EmulatorState, Incoming, Outgoing, Unreadable
from ocr_providers.huawei import signing

__all__ = ["ENDPOINT_TYPES", "handle", "handle_iam"]

ENDPOINT_TYPES: dict[str, DocumentType] = {
    "exit-entry-permit": DocumentType.EXIT_ENTRY_PERMIT,
    "mainland-travel-permit": DocumentType.MAINLAND_TRAVEL_PERMIT,
    "passport": DocumentType.CN_PASSPORT,
    "hk-id-card": DocumentType.HK_ID_CARD,
}
PATH_RE = re.compile(r"^/v2/(?P<project>[^/]+)/ocr/(?P<endpoint>[^/]+)$")
AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<ak>[^,]+),\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<sig>\w+)$"
)
LOCK_AFTER, LOCK_SECONDS, SKEW_SECONDS = 5, 300.0, 900.0
MAX_BODY = 10 * 1024 * 1024
IAM = "Incorrect IAM authentication information: "
# What a reader-backed answer says when the image holds no document (or another type than the endpoint's).
WRONG_TYPE = ("AIS.0104", "The image is not supported or its quality is poor.")
UNREADABLE = ("AIS.0105", "Recognition failed.")
STATUS = {"APIG.0101": 404, "APIG.0301": 401, "APIG.0307": 401, "APIG.0308": 429, "ModelArts.4104": 413}
# Huawei's own error for each random vendor failure (``script.VENDOR_FAILURES``)
FAILURES = {
    "internal_error": VendorError("ModelArts.4505", "Internal error.", 500),
    "rate_limited": VendorError("APIG.0308", "The throttling threshold has been reached: policy user over ratelimit"),
    "unreadable": VendorError("AIS.0102", "The image format is not supported."),
    "too_large": VendorError("ModelArts.4104", "The image size exceeds the limit."),
}


def error(rid: str, code: str, message: str, status: int | None = None) -> Outgoing:
    body = json.dumps({"error_code": code, "error_msg": message, "request_id": rid}).encode("utf-8")
    headers = {"Content-Type": "application/json", "X-Request-Id": rid}
    return Outgoing(status or STATUS.get(code, 400), body, headers)


def success(rid: str, result: dict[str, Any]) -> Outgoing:
    body = json.dumps({"result": result}, ensure_ascii=False).encode("utf-8")
    return Outgoing(200, body, {"Content-Type": "application/json;charset=UTF-8", "X-Request-Id": rid})


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def handle_iam(state: EmulatorState, req: Incoming) -> Outgoing:
    """POST /v3/auth/tokens with the password method: 201 and X-Subject-Token, or IAM's 401 body."""
    try:
        user = json.loads(req.body)["auth"]["identity"]["password"]["user"]
        key, password = (user["domain"]["name"], user["name"]), user["password"]
    except (ValueError, KeyError, TypeError):
        key, password = ("", ""), None
    if password is None or state.credentials.iam_users.get(key) != password:
        state.record("huawei", "iam", "401")
        body = {"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}
        return Outgoing(401, json.dumps(body).encode(), {"Content-Type": "application/json"})
    now = state.clock()
    token = "MIIemulator" + secrets.token_urlsafe(48)
    project = {"id": state.credentials.project_id, "name": state.credentials.region}
    with state.lock:
        state.tokens[token] = (now + state.token_ttl, project["id"])
    state.record("huawei", "iam", "ok")
    body = {
        "token": {
            "expires_at": _iso(now + state.token_ttl),
            "issued_at": _iso(now),
            "methods": ["password"],
            "project": project,
            "user": {"name": key[1], "domain": {"name": key[0]}},
            "catalog": [],
        }
    }
    return Outgoing(201, json.dumps(body).encode(), {"Content-Type": "application/json", "X-Subject-Token": token})


def expire_tokens(state: EmulatorState) -> None:
    with state.lock:
        past = state.clock() - 1
        state.tokens = {t: (past, p) for t, (_, p) in state.tokens.items()}


def _verify_token(state: EmulatorState, token: str) -> tuple[str, str] | None:
    with state.lock:
        found = state.tokens.get(token)
    if found is None:
        return "APIG.0301", IAM + "decrypt token fail"
    if found[0] <= state.clock():
        return "APIG.0307", "The token must be updated."
    return None


def _canonical(req: Incoming, signed: str) -> str:
    headers = {name: req.headers.get(name, "") for name in signed.split(";")}
    return signing.canonical_request(method=req.method, path=req.path, query=req.query, headers=headers, body=req.body)


def _verify_aksk(state: EmulatorState, req: Incoming, m: re.Match[str]) -> tuple[str, str] | None:
    ak, now = m["ak"], state.clock()
    if state.ak_locked_until.get(ak, 0) > now:
        return "APIG.0301", IAM + "AK access failed to reach the limit,forbidden."
    sk = state.credentials.huawei_aksk.get(ak)
    if sk is None:
        return "APIG.0301", IAM + f"Get secretKey failed,ak:{ak},err:ak not exist"
    date = req.headers.get("x-sdk-date", "")
    try:
        signed_at = signing.parse_sdk_date(date)
    except ValueError:
        return _signature_failed(state, ak, "verify aksk signature fail, x-sdk-date missing or malformed")
    if abs(now - signed_at) > SKEW_SECONDS:
        server = signing.sdk_date(now)
        return "APIG.0301", IAM + f"signature expired, signature time:{date},server time:{server}"
    canonical = _canonical(req, m["signed"])
    expected = signing.signature(sk, signing.string_to_sign(canonical, date))
    if "x-sdk-date" not in m["signed"].split(";") or not hmac.compare_digest(expected, m["sig"]):
        detail = "verify aksk signature fail, canonicalRequest:" + canonical.replace("\n", "|")
        return _signature_failed(state, ak, detail)
    state.ak_failures[ak] = 0
    return None


def _signature_failed(state: EmulatorState, ak: str, detail: str) -> tuple[str, str]:
    # More than five consecutive failures lock the AK for five minutes (Huawei OCR FAQ, APIG.0301).
    with state.lock:
        state.ak_failures[ak] = state.ak_failures.get(ak, 0) + 1
        if state.ak_failures[ak] > LOCK_AFTER:
            state.ak_locked_until[ak] = state.clock() + LOCK_SECONDS
    return "APIG.0301", IAM + detail


def verify(state: EmulatorState, req: Incoming) -> tuple[str, str] | None:
    token = req.headers.get("x-auth-token")
    if token:
        return _verify_token(state, token)
    m = AUTH_RE.match(req.headers.get("authorization", ""))
    if not m:
        return "APIG.0301", IAM + "x-auth-token not found"
    return _verify_aksk(state, req, m)


def handle(state: EmulatorState, req: Incoming) -> Outgoing | Fault:
    rid = uuid.uuid4().hex
    m = PATH_RE.match(req.path)
    endpoint = m["endpoint"] if m else req.path
    outcome = _handle(state, req, endpoint if m else "", rid)
    label = f"fault:{outcome.kind}" if isinstance(outcome, Fault) else _code_of(outcome)
    state.record("huawei", endpoint, label)
    return outcome


def _code_of(out: Outgoing) -> str:
    if out.status == 200:
        return "ok"
    try:
        return str(json.loads(out.body)["error_code"])
    except (KeyError, TypeError, ValueError):
        return str(out.status)


def _handle(state: EmulatorState, req: Incoming, endpoint: str, rid: str) -> Outgoing | Fault:
    if endpoint not in ENDPOINT_TYPES or endpoint in state.withdrawn:
        return error(rid, "APIG.0101", "The API does not exist or has not been published in the environment.")
    failure = verify(state, req)
    if failure:
        return error(rid, *failure)
    if not state.quotas.admit(endpoint, at=req.arrived):
        limit = int(state.quotas.limits[endpoint])
        message = "The throttling threshold has been reached: policy user over ratelimit"
        message += f",limit:{limit},time:1 second"
        return error(rid, "APIG.0308", message)
    body, problem = _body(req.body)
    if problem:
        return error(rid, *problem)
    return _reply(state, endpoint, body, rid)


def _body(raw: bytes) -> tuple[dict[str, Any], tuple[str, str] | None]:
    if len(raw) > MAX_BODY:
        return {}, ("ModelArts.4104", "Invalid Request Content Length.")
    try:
        body = json.loads(raw)
    except ValueError:
        return {}, ("ModelArts.4105", "The JSON format of the input data is incorrect.")
    if not isinstance(body, dict) or bool(body.get("image")) == bool(body.get("url")):
        return {}, ("AIS.0101", "The input parameter is invalid.")
    image = body.get("image") or ""
    try:
        base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        return {}, ("AIS.0102", "The image format is not supported.")  # e.g. a data: prefix
    return body, None


def _reply(state: EmulatorState, endpoint: str, body: dict[str, Any], rid: str) -> Outgoing | Fault:
    reply = state.reply_for(endpoint, FAILURES)
    if isinstance(reply, Fault):
        return reply
    if isinstance(reply, VendorError):
        return error(rid, reply.code, reply.message, reply.status)
    if isinstance(reply, Answer):
        return success(rid, dict(reply.body))
    image = base64.b64decode(body.get("image") or "")
    try:
        result = state.canonical_answer("huawei", endpoint, image, ENDPOINT_TYPES[endpoint], Side.FRONT)
    except Unreadable as exc:
        return error(rid, *(WRONG_TYPE if exc.wrong_type else UNREADABLE))
    return success(rid, _with_portrait(body, result))


def _with_portrait(body: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    if result.get("side") == "back":
        return result
    if body.get("return_portrait_image"):
        result["portrait_image"] = PORTRAIT_B64
    if body.get("return_portrait_location"):
        result["portrait_location"] = [[40, 60], [160, 60], [160, 220], [40, 220]]
    return result
