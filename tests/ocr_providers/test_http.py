"""The shared HTTP layer: no redirects, no proxies from the environment, capped bodies, clean logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from ocr_providers.base import OcrRequest, ProviderConfig
from ocr_providers.documents import DocumentType
from ocr_providers.exceptions import OcrMisconfigured, OcrUnavailable, OcrUnknownOutcome
from ocr_providers.http import build_client, host_of
from ocr_providers.huawei import HuaweiOcrProvider
from ocr_providers.tencent import TencentOcrProvider

from .conftest import HUAWEI_SK, IMAGE, TENCENT_KEY, huawei_config, tencent_config


def _client(handler, **config):
    return build_client(ProviderConfig(name="t", **config), vendor="t", transport=httpx.MockTransport(handler))


def test_redirects_are_refused_not_followed():
    calls = []

    def handler(request):
        calls.append(request.url)
        return httpx.Response(302, headers={"Location": "https://elsewhere.example/"})

    with pytest.raises(OcrMisconfigured) as caught:
        _client(handler).post("https://ocr.example/", content=b"{}", headers={})
    assert caught.value.code == "unexpected_redirect"
    assert len(calls) == 1


def test_declared_length_over_the_cap_is_not_read():
    def handler(request):
        return httpx.Response(200, content=b"x" * 2048)

    with pytest.raises(OcrUnknownOutcome) as caught:
        _client(handler, max_response_bytes=1024).post("https://ocr.example/", content=b"{}", headers={})
    assert caught.value.code == "response_too_large"


def test_environment_proxies_are_ignored(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = _client(lambda request: httpx.Response(200, content=b"{}"))
    assert client.post("https://ocr.example/", content=b"{}", headers={}).status == 200
    assert client._client._trust_env is False


def test_timeouts_are_explicit():
    client = build_client(ProviderConfig(name="t", connect_timeout=2.0, read_timeout=7.0), vendor="t")
    timeout = client._client.timeout
    assert (timeout.connect, timeout.read) == (2.0, 7.0)
    assert client._client.follow_redirects is False


def test_deadline_already_spent_sends_nothing():
    calls = []
    client = _client(lambda request: calls.append(1) or httpx.Response(200))
    with pytest.raises(OcrUnavailable) as caught:
        client.post("https://ocr.example/", content=b"{}", headers={}, deadline_at=0.0)
    assert caught.value.code == "timeout"
    assert calls == []


def test_host_header_drops_default_ports():
    assert host_of("https://ocr.tencentcloudapi.com:443/") == "ocr.tencentcloudapi.com"
    assert host_of("http://127.0.0.1:8900/") == "127.0.0.1:8900"


def test_logs_never_carry_keys_tokens_images_or_fields(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    tencent = TencentOcrProvider(tencent_config(emulator.url))
    huawei = HuaweiOcrProvider(huawei_config(emulator.url, token=True))
    request = OcrRequest(image=IMAGE * 50, document_type=DocumentType.HK_ID_CARD)
    result = tencent.recognize(request)
    huawei.recognize(request)
    text = caplog.text
    assert "hk-id-card" in text  # one line per call is logged
    secrets = [TENCENT_KEY, HUAWEI_SK, "example-password", "Authorization", "X-Auth-Token", "MIIemulator"]
    for value in [
        *secrets,
        "/9j/4AAQ",
        result.fields["name_zh"].value,
        result.fields["document_number"].value,
    ]:
        assert value not in text


def test_a_request_waits_for_its_slot_after_it_is_built_and_before_it_leaves():
    """``not_before``: the quota slot. The wait happens right before the send, never after it."""
    clock = {"now": 100.0}
    events = []

    def sleep(seconds):
        events.append(("sleep", round(seconds, 3)))
        clock["now"] += seconds

    def handler(request):
        events.append(("sent", clock["now"]))
        return httpx.Response(200, content=b"{}")

    client = build_client(ProviderConfig(name="t"), vendor="t", transport=httpx.MockTransport(handler))
    client._monotonic, client._sleep = (lambda: clock["now"]), sleep
    client.post("https://ocr.example/", content=b"{}", headers={}, not_before=100.25)
    assert events == [("sleep", 0.25), ("sent", 100.25)]
    events.clear()
    client.post("https://ocr.example/", content=b"{}", headers={}, not_before=99.0)  # slot passed: no wait
    assert events == [("sent", 100.25)]


def test_a_request_past_its_send_by_time_does_not_leave():
    clock = {"now": 100.0}
    sent = []
    client = build_client(
        ProviderConfig(name="t"),
        vendor="t",
        transport=httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, content=b"{}")),
    )
    client._monotonic = lambda: clock["now"]
    with pytest.raises(OcrUnavailable) as caught:
        client.post("https://ocr.example/", content=b"{}", headers={}, not_before=99.9, send_by=99.92)
    assert caught.value.code == "slot_missed"
    assert sent == []  # nothing reached the vendor: no quota spent, nothing billed
    assert client.post("https://ocr.example/", content=b"{}", headers={}, send_by=100.02).status == 200
