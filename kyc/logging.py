"""A logging filter that masks what must never reach a log: secrets, tokens, signatures, base64 blobs
and document numbers. It is a safety net; code should not log such values in the first place."""

from __future__ import annotations

import logging
import re

_SECRET_NAMES = r"[\w-]*(?:secret|password|passwd|token|signature|authorization|api[_-]?key|credential)[\w-]*"  # noqa: S105 - a pattern of key names, not a password
_PATTERNS = [
    # a signed Authorization header: everything after the algorithm name
    (re.compile(r"(?i)\b(TC3-HMAC-SHA256|SDK-HMAC-SHA256)\b.*"), r"\1 [redacted]"),
    # key=value / "key": "value" pairs whose key names a secret
    (re.compile(rf"(?i)({_SECRET_NAMES}[\"']?\s*[:=]\s*[\"']?)[^\s\"',}}]+"), r"\1[redacted]"),
    (re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"), "[base64 redacted]"),  # image payloads
    # document numbers before HKID numbers: a permit number's first 8 characters look like an HKID
    (re.compile(r"\b[EGCHMDKS][A-Z0-9][0-9]{7}\b"), "[document number redacted]"),
    (re.compile(r"\b[A-Z]{1,2}[0-9]{6}(?:\([0-9A]\)|[0-9A]\b)"), "[hkid redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
