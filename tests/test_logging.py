"""The log filter masks what must never reach a log, whatever a caller passes it."""

from __future__ import annotations

import base64
import logging

import pytest

from kyc.logging import RedactFilter, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: TC3-HMAC-SHA256 Credential=AKIDz8krbs/2019-02-25/ocr/tc3_request, Signature=abc", "AKIDz8"),
        ('{"password": "hunter2-long"}', "hunter2"),
        ("X-Auth-Token=MIIexampletoken", "MIIexample"),
        ("holder A123456(3) seen", "A123456"),
        ("number E12345678 read", "E12345678"),
        ("image " + base64.b64encode(b"\xff\xd8" * 300).decode(), "/9j/"),
    ],
)
def test_secrets_and_personal_data_are_masked(text, secret):
    assert secret not in redact(text)


def test_the_filter_rewrites_records_and_keeps_them(caplog):
    logger = logging.getLogger("kyc.test")
    logger.addFilter(RedactFilter())
    with caplog.at_level(logging.INFO, logger="kyc.test"):
        logger.info("calling vendor with secret_key=%s for %s", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "C12345678")
    assert len(caplog.records) == 1
    assert "Gu5t9" not in caplog.text
    assert "C12345678" not in caplog.text
