"""A logging filter that masks what must never reach a log: secrets, tokens, signatures, base64 blobs
and document numbers. It is a safety net; code should not log such values in the first place."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # key=value / "key": "value" pairs whose key names a secret
    (
        re.compile(
            r"(?i)((?:secret|password|token|authorization|signature|api[_-]?key|x-auth-token|sk)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)(TC3-HMAC-SHA256|SDK-HMAC-SHA256)\s+\S.*"), r"\1 [redacted]"),
    (re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"), "[base64 redacted]"),  # image payloads
    (re.compile(r"\b[A-Z]{1,2}[0-9]{6}\(?[0-9A]\)?"), "[hkid redacted]"),
    (re.compile(r"\b[EGCHMDS][A-Z0-9][0-9]{7}\b"), "[document number redacted]"),
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
