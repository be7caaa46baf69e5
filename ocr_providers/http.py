"""The one HTTP layer every vendor call goes through.

``build_client`` returns a small wrapper around ``httpx.Client`` that:

* sets explicit connect, read, write and pool timeouts (no call ever goes out without one);
* enforces a total deadline with our own monotonic clock, because httpx timeouts are per operation and a
  server that trickles bytes would otherwise hold a worker for ever;
* streams the response and stops reading past ``max_response_bytes`` (checked against Content-Length
  first, then against the decoded bytes actually read, so a gzip bomb is caught too);
* never follows redirects and ignores proxy/certificate environment variables (``trust_env=False``);
* sends without Nagle's delay (``TCP_NODELAY``, as curl does): a request written as headers then body
  must not wait for the server's delayed ACK;
* times a call to its quota slot at the last moment: with the real transport, the connection (TCP and
  TLS) is opened first and the wait and the ``send_by`` check happen as the request headers are about to
  be written (httpcore's ``trace`` extension), so a cold connection cannot make a call late;
* logs one line per call (vendor, action, host, status, size, time, vendor request id): never headers,
  bodies, keys, tokens, images or personal fields.

Transport failures become ``OcrError`` subclasses: anything before the request was sent is
``OcrUnavailable``; anything after (read timeout, reset, truncated body) is ``OcrUnknownOutcome``, because
the vendor may have processed and billed the call.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ocr_providers.base import ProviderConfig
from ocr_providers.exceptions import OcrError, OcrMisconfigured, OcrUnavailable, OcrUnknownOutcome

__all__ = ["HttpResponse", "VendorHttpClient", "build_client", "host_of", "tls_context"]

logger = logging.getLogger("ocr_providers.http")

USER_AGENT = "kyc-ocr/0.1 (+httpx)"
SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context for vendor calls (httpx's default: certifi's CA bundle, no environment
    overrides). Loading the bundle costs tens of milliseconds; one context serves every client, and one
    made before a worker pool forks (it holds no connection) serves every worker."""
    return httpx.create_ssl_context(trust_env=False)


@dataclass(frozen=True)
class HttpResponse:
    """A fully read response: status, headers (case-insensitive) and the body bytes."""

    status: int
    headers: httpx.Headers
    body: bytes = field(repr=False)
    elapsed_ms: float = 0.0  # from the request leaving (its headers written) to the whole answer read

    def header(self, name: str) -> str:
        return str(self.headers.get(name, ""))


def host_of(url: str) -> str:
    """The Host header httpx derives from ``url`` (default ports dropped): what a signer must sign."""
    return httpx.URL(url).netloc.decode("ascii")


class VendorHttpClient:
    """One vendor's outbound HTTP: timeouts, deadline, size cap, no redirects, redacted logs."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        vendor: str,
        transport: httpx.BaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor = vendor
        self.config = config
        self._monotonic = monotonic
        self._sleep = sleep
        self._wire = threading.local()  # per thread: a provider instance may serve several threads
        # httpcore reports the moment the request headers are written; another transport (a test's mock)
        # may not, and then the wait happens before the request is handed over, as before.
        self._gated_at_send = transport is None or isinstance(transport, httpx.HTTPTransport)
        self._client = httpx.Client(
            timeout=self._timeout(config.read_timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport or httpx.HTTPTransport(verify=tls_context(), socket_options=SOCKET_OPTIONS),
            headers={"User-Agent": USER_AGENT},
        )

    def _timeout(self, read: float) -> httpx.Timeout:
        connect = min(self.config.connect_timeout, read)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def wire_time(self) -> float:
        """Seconds this thread's requests through this client have spent with the vendor so far: from each
        request leaving (its headers written, after any wait for its quota slot) to its whole answer read,
        or to its failure. A provider takes the difference over one call: the vendor's own time, without
        our building, signing, slot waits or parsing."""
        return float(getattr(self._wire, "seconds", 0.0))

    def deadline_from_now(self) -> float:
        """An absolute deadline (monotonic seconds) for one provider call, however many requests it makes."""
        return self._monotonic() + self.config.deadline

    def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        deadline_at: float | None = None,
        action: str = "",
        request_id_header: str = "",
        not_before: float = 0.0,
        send_by: float = 0.0,
    ) -> HttpResponse:
        """POST ``content`` exactly as given and return the whole response, or raise an ``OcrError``.
        With ``not_before`` (monotonic seconds), wait until then first: the request is already built and
        signed, so it leaves at its quota slot. Past ``send_by`` it does not leave at all
        (``OcrUnavailable`` with code ``slot_missed``: nothing was sent, the caller takes a new slot)."""
        deadline_at = deadline_at if deadline_at is not None else self.deadline_from_now()
        gate = _SlotGate(not_before, send_by, self._monotonic, self._sleep)
        if not self._gated_at_send:
            gate.open()  # wait here: this transport does not say when the request goes out
        started = self._monotonic()
        remaining = deadline_at - max(started, not_before)
        if remaining <= 0:
            raise OcrUnavailable("deadline reached before the request was sent", code="timeout")
        timeout = self._timeout(min(self.config.read_timeout, remaining))
        try:
            response = self._send(url, content, headers, timeout, deadline_at, gate)
        except OcrError as exc:
            if gate.sent_at is not None:  # it left: the vendor had it until the failure
                self._wire.seconds = self.wire_time() + self._monotonic() - gate.sent_at
            self._log(action, url, f"failed ({exc.code})", 0, gate.sent_at or started, "")
            raise
        self._wire.seconds = self.wire_time() + response.elapsed_ms / 1000
        sent = gate.sent_at or started
        self._log(action, url, response.status, len(response.body), sent, response.header(request_id_header))
        return response

    def _send(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        deadline_at: float,
        gate: _SlotGate,
    ) -> HttpResponse:
        started = self._monotonic()
        extensions = {"trace": gate.trace} if self._gated_at_send else None
        try:
            with self._client.stream(
                "POST", url, content=content, headers=dict(headers), timeout=timeout, extensions=extensions
            ) as r:
                self._refuse_redirect(r)
                body = self._read_capped(r, deadline_at)
                elapsed = (self._monotonic() - (gate.sent_at or started)) * 1000
                return HttpResponse(status=r.status_code, headers=r.headers, body=body, elapsed_ms=elapsed)
        except httpx.HTTPError as exc:
            raise _classify_transport_error(exc) from exc

    @staticmethod
    def _refuse_redirect(response: httpx.Response) -> None:
        # A vendor API never redirects; a redirect means a wrong endpoint or something in between.
        if response.is_redirect:
            raise OcrMisconfigured(
                f"vendor endpoint answered with a redirect ({response.status_code}); check the endpoint",
                code="unexpected_redirect",
                http_status=response.status_code,
            )

    def _read_capped(self, response: httpx.Response, deadline_at: float) -> bytes:
        cap = self.config.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _too_large(response.status_code, cap)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise _too_large(response.status_code, cap)
            if self._monotonic() > deadline_at:
                raise OcrUnknownOutcome("total deadline reached while reading the response", code="timeout")
            chunks.append(chunk)
        return b"".join(chunks)

    def _log(self, action: str, url: str, status: Any, size: int, started: float, request_id: str) -> None:
        parsed = httpx.URL(url)
        elapsed = int((self._monotonic() - started) * 1000)
        logger.info(
            "%s %s POST %s%s -> %s %dB %dms request_id=%s",
            self.vendor,
            action or "-",
            parsed.host,
            _path_for_log(parsed.path),
            status,
            size,
            elapsed,
            request_id or "-",
        )

    def close(self) -> None:
        self._client.close()


class _SlotGate:
    """Holds a request until its quota slot (``not_before``, monotonic seconds) and refuses it past
    ``send_by``; ``open`` is called once, either by the caller before the request is handed to httpx or
    by httpcore's trace as the request headers are about to be written (the connection is then open)."""

    def __init__(
        self, not_before: float, send_by: float, monotonic: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.not_before, self.send_by = not_before, send_by
        self._monotonic, self._sleep = monotonic, sleep
        self.sent_at: float | None = None

    def open(self) -> None:
        if self.sent_at is not None:
            return
        early = self.not_before - self._monotonic()
        if early > 0:
            self._sleep(early)
        now = self._monotonic()
        if self.send_by and now > self.send_by:
            # Nothing has been written: httpcore drops the connection, the vendor saw no request.
            raise OcrUnavailable(
                f"the quota slot passed {int((now - self.send_by) * 1000)} ms before the request could leave",
                code="slot_missed",
            )
        self.sent_at = now

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event.endswith(".send_request_headers.started"):  # no proxy: this is the vendor call's request
            self.open()


def _path_for_log(path: str) -> str:
    # Huawei paths carry the project id (not a secret) and the endpoint name; nothing personal.
    return path if len(path) < 120 else path[:117] + "..."


def _too_large(status: int, cap: int) -> OcrUnknownOutcome:
    return OcrUnknownOutcome(
        f"response larger than the {cap}-byte cap; body discarded",
        code="response_too_large",
        http_status=status,
    )


# Failures before the request left us: the vendor never saw it, a retry is free.
_NOT_SENT: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectTimeout, "timeout"),
    (httpx.PoolTimeout, "timeout"),
    (httpx.ConnectError, "network"),
)
# Failures after the request was (at least partly) sent: the vendor may have processed it.
_SENT: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ReadTimeout, "timeout"),
    (httpx.WriteTimeout, "timeout"),
    (httpx.RemoteProtocolError, "network"),
    (httpx.ReadError, "network"),
    (httpx.WriteError, "network"),
)


def _classify_transport_error(exc: httpx.HTTPError) -> OcrUnavailable | OcrMisconfigured:
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return OcrMisconfigured(f"bad vendor endpoint: {type(exc).__name__}", code="bad_endpoint")
    for cls, code in _NOT_SENT:
        if isinstance(exc, cls):
            return OcrUnavailable(f"vendor not reached: {type(exc).__name__}", code=code)
    for cls, code in _SENT:
        if isinstance(exc, cls):
            return OcrUnknownOutcome(f"no complete answer after sending: {type(exc).__name__}", code=code)
    return OcrUnavailable(f"transport error: {type(exc).__name__}", code="network")


def build_client(
    config: ProviderConfig,
    *,
    vendor: str,
    transport: httpx.BaseTransport | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> VendorHttpClient:
    """The only way providers get an HTTP client."""
    return VendorHttpClient(config, vendor=vendor, transport=transport, monotonic=monotonic)


def image_json_body(key: str, image: bytes, rest: Mapping[str, Any]) -> bytes:
    """``json.dumps({key: base64(image), **rest}).encode()``, byte for byte (the bytes that are hashed for
    the signature and sent), without passing the image through the JSON encoder: it scans every character
    of a string for escapes, about 11 ms for the 2 MB of base64 of a 1.5 MB photo on a slow machine, and
    base64's alphabet needs none. The rest is encoded as usual and the image spliced in as the first value."""
    if key in rest:
        raise ValueError(f"{key!r} is the image's key")
    text = json.dumps({key: "", **rest})
    opening = 1 + len(json.dumps(key)) + 2  # '{' key ': ' (json.dumps's defaults), then the value's quote
    encoded = text.encode("ascii")
    return b"".join((encoded[: opening + 1], base64.b64encode(image), encoded[opening + 1 :]))
