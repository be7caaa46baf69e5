"""Huawei API Gateway AK/SK signing, "SDK-HMAC-SHA256" (vendors.md B.4, vectors HW-0..HW-3).

Unlike TC3 the key is the SK itself (no derivation), header values are trimmed but not lowercased, and
the canonical URI always ends in ``/`` although the request line does not. We sign exactly
``content-type;host;x-project-id;x-sdk-date`` (plus ``x-security-token`` for temporary keys) and never
``user-agent``, which httpx sets itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

__all__ = [
    "ALGORITHM",
    "authorization",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "sdk_date",
    "sign",
    "signature",
    "string_to_sign",
]

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def sdk_date(timestamp: float) -> str:
    """``X-Sdk-Date``: UTC, ``YYYYMMDDTHHMMSSZ``."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_sdk_date(value: str) -> float:
    """Seconds since the epoch from an ``X-Sdk-Date`` value (raises ``ValueError`` when malformed)."""
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


def canonical_uri(path: str) -> str:
    """Each segment percent-encoded (RFC 3986 unreserved kept), with a trailing ``/`` for signing only."""
    encoded = "/".join(quote(segment, safe="") for segment in path.split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe=""), quote(v, safe="")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """(canonical header block, signed header list) for the headers to be signed."""
    items = sorted((name.lower(), value.strip()) for name, value in headers.items())
    block = "".join(f"{name}:{value}\n" for name, value in items)
    return block, ";".join(name for name, _ in items)


def canonical_request(
    *, method: str, path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str], body: bytes
) -> str:
    block, signed = canonical_headers(headers)
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), canonical_uri(path), canonical_query(query), block, signed, body_hash])


def string_to_sign(canonical: str, date: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, date, digest])


def signature(sk: str, to_sign: str) -> str:
    return hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(ak: str, signed_headers: str, sig: str) -> str:
    return f"{ALGORITHM} Access={ak}, SignedHeaders={signed_headers}, Signature={sig}"


def sign(
    *,
    ak: str,
    sk: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    query: Iterable[tuple[str, str]] = (),
) -> str:
    """The ``Authorization`` value signing every header in ``headers`` (which must hold X-Sdk-Date)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if "x-sdk-date" not in lowered:
        raise ValueError("X-Sdk-Date must be set and signed")
    canonical = canonical_request(method=method, path=path, query=query, headers=headers, body=body)
    _, signed = canonical_headers(headers)
    return authorization(ak, signed, signature(sk, string_to_sign(canonical, lowered["x-sdk-date"])))
