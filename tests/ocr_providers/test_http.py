"""The shared HTTP layer: no redirects, no proxies from the environment, capped bodies, clean logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from ocr_providers.base import OcrRequest, ProviderConfig
from ocr_providers.documents import DocumentType
from ocr_providers.emulator import VendorEmulator
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


def test_wire_time_is_the_vendors_time_not_the_slot_wait():
    """A provider's latency is what ``wire_time`` adds over its call: from the request leaving to its answer
    read (or to its failure), never the wait for the slot before it, nor anything after the answer."""
    clock = {"now": 100.0}

    def sleep(seconds):
        clock["now"] += seconds

    def handler(request):
        clock["now"] += 0.3  # the vendor works on it
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(200, content=b"{}")

    client = build_client(ProviderConfig(name="t"), vendor="t", transport=httpx.MockTransport(handler))
    client._monotonic, client._sleep = (lambda: clock["now"]), sleep
    assert client.wire_time() == 0.0
    response = client.post("https://ocr.example/", content=b"{}", headers={}, not_before=100.25)
    assert clock["now"] == pytest.approx(100.55)  # 0.25 s waiting for the slot, then 0.3 s with the vendor
    assert client.wire_time() == pytest.approx(0.3)
    assert response.elapsed_ms == pytest.approx(300.0)
    with pytest.raises(OcrUnknownOutcome):  # it left: the vendor had it until the failure
        client.post("https://ocr.example/slow", content=b"{}", headers={})
    assert client.wire_time() == pytest.approx(0.6)
    with pytest.raises(OcrUnavailable):  # never left: no time with the vendor
        client.post("https://ocr.example/", content=b"{}", headers={}, not_before=99.0, send_by=99.5)
    assert client.wire_time() == pytest.approx(0.6)


@pytest.mark.parametrize("vendor", ["tencent", "huawei"])
def test_a_results_latency_leaves_out_the_slot_wait(vendor):
    """Over real HTTP to the emulator (150 ms per request): the result's latency is the vendor's time, not
    the 200 ms the request waited for its slot before it left."""
    import time

    with VendorEmulator(latency_ms=150) as emulator:
        config = tencent_config(emulator.url) if vendor == "tencent" else huawei_config(emulator.url)
        provider = TencentOcrProvider(config) if vendor == "tencent" else HuaweiOcrProvider(config)
        started = time.monotonic()
        request = OcrRequest(image=IMAGE, document_type=DocumentType.HK_ID_CARD, not_before=started + 0.2)
        result = provider.recognize(request)
        total_ms = (time.monotonic() - started) * 1000
        provider.close()
    assert 150 <= result.latency_ms <= total_ms - 200


def test_a_huawei_token_request_counts_as_the_vendors_time():
    with VendorEmulator(latency_ms=150) as emulator:
        provider = HuaweiOcrProvider(huawei_config(emulator.url, token=True))
        result = provider.recognize(OcrRequest(image=IMAGE, document_type=DocumentType.HK_ID_CARD))
        provider.close()
        assert emulator.count(action="iam") == 1
    assert result.latency_ms >= 300  # the IAM token, then the card: two requests of 150 ms


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


class _RawServer:
    """A loopback HTTP server that records, per connection, when it was accepted and what arrived, so a
    test can tell connection setup from the request leaving."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.accepted = threading.Event()
        self.received = bytearray()
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        self.accepted.set()
        with conn:
            while b"\r\n\r\n{}" not in self.received:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                self.received += chunk
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
        self.done.set()

    def close(self) -> None:
        self.sock.close()


def test_a_cold_connection_is_opened_before_the_slot_and_the_request_leaves_at_it():
    """With the real transport the wait happens once the connection is open, as the headers are about to
    be written: connection setup (a TLS handshake with a real vendor) cannot make the call late."""
    server = _RawServer()
    clock = {"now": 100.0}
    seen_while_waiting = []

    def sleep(seconds):  # what the server had seen when the client started to wait for its slot
        seen_while_waiting.append((server.accepted.wait(5), bytes(server.received)))
        clock["now"] += seconds

    client = build_client(ProviderConfig(name="t"), vendor="t")
    client._monotonic, client._sleep = (lambda: clock["now"]), sleep
    try:
        response = client.post(server.url, content=b"{}", headers={}, not_before=100.25, send_by=100.27)
    finally:
        client.close()
        server.close()
    assert response.status == 200
    assert seen_while_waiting == [(True, b"")]  # connected, and not one byte of the request sent
    assert server.received.startswith(b"POST / HTTP/1.1")


def test_a_request_that_missed_its_slot_after_connecting_writes_nothing():
    server = _RawServer()
    clock = {"now": 100.0}

    def stalled_sleep(seconds):  # the worker lost the CPU while it waited: it wakes past send_by
        server.accepted.wait(5)
        clock["now"] += seconds + 0.05

    client = build_client(ProviderConfig(name="t"), vendor="t")
    client._monotonic, client._sleep = (lambda: clock["now"]), stalled_sleep
    try:
        with pytest.raises(OcrUnavailable) as caught:
            client.post(server.url, content=b"{}", headers={}, not_before=100.25, send_by=100.27)
        assert server.done.wait(5)  # the client dropped the connection it had opened
    finally:
        client.close()
        server.close()
    assert caught.value.code == "slot_missed"
    assert bytes(server.received) == b""  # the vendor saw no request: no quota spent, nothing billed


@pytest.mark.parametrize("size", [0, 1, 2, 3, 57, 1000, 300_001])
@pytest.mark.parametrize(
    ("key", "rest"),
    [
        ("ImageBase64", {}),
        ("ImageBase64", {"ReturnHeadImage": True, "CropPortrait": False}),
        ("image", {"return_portrait_image": True, "return_portrait_location": False}),
        ("image", {"country_code": "CHN", "note": 'quote " and \u9673 and /'}),
    ],
)
def test_an_image_body_is_the_json_encoders_bytes_exactly(size, key, rest):
    """The body is hashed for the signature and sent as is: spliced, it must still be json.dumps's."""
    import base64
    import json
    import random

    from ocr_providers.http import image_json_body

    image = random.Random(size).randbytes(size)
    expected = json.dumps({key: base64.b64encode(image).decode("ascii"), **rest}).encode("utf-8")
    assert image_json_body(key, image, rest) == expected


def test_an_image_body_refuses_a_second_value_for_the_images_key():
    from ocr_providers.http import image_json_body

    with pytest.raises(ValueError, match="ImageBase64"):
        image_json_body("ImageBase64", b"x", {"ImageBase64": "y"})
