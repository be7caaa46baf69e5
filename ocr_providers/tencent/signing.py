"""TC3-HMAC-SHA256, exactly as the Tencent Cloud SDK computes it (vendors.md A.3, vectors TC-0..TC-5).

Like the SDK we sign only ``content-type;host`` and use both header values as sent (no lowercasing or
trimming), so the caller must send an all-lowercase Content-Type. The body is hashed as the exact bytes
that go on the wire: build it once, sign it, send it with ``content=``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

__all__ = [
    "ALGORITHM",
    "SIGNED_HEADERS",
    "authorization",
    "canonical_request",
    "credential_date",
    "sha256_hex",
    "sign",
    "signature",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "TC3-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host"


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def credential_date(timestamp: int) -> str:
    """The UTC date of ``timestamp``: never local time (signing breaks around midnight otherwise)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def canonical_request(*, content_type: str, host: str, body: bytes) -> str:
    """POST, ``/``, empty query, the two canonical headers, the signed header list, the body hash."""
    headers = f"content-type:{content_type}\nhost:{host}\n"
    return "\n".join(["POST", "/", "", headers, SIGNED_HEADERS, sha256_hex(body)])


def string_to_sign(*, timestamp: int, canonical: str, service: str = "ocr") -> str:
    scope = f"{credential_date(timestamp)}/{service}/tc3_request"
    return "\n".join([ALGORITHM, str(timestamp), scope, sha256_hex(canonical)])


def signing_key(secret_key: str, date: str, service: str = "ocr") -> bytes:
    """kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request")."""
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac(k_date, service)
    return _hmac(k_service, "tc3_request")


def signature(secret_key: str, timestamp: int, to_sign: str, service: str = "ocr") -> str:
    key = signing_key(secret_key, credential_date(timestamp), service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(secret_id: str, timestamp: int, sig: str, service: str = "ocr") -> str:
    scope = f"{credential_date(timestamp)}/{service}/tc3_request"
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={sig}"


def sign(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    content_type: str,
    body: bytes,
    timestamp: int,
    service: str = "ocr",
) -> str:
    """The ``Authorization`` header value for one request."""
    canonical = canonical_request(content_type=content_type, host=host, body=body)
    to_sign = string_to_sign(timestamp=timestamp, canonical=canonical, service=service)
    return authorization(secret_id, timestamp, signature(secret_key, timestamp, to_sign, service), service)
