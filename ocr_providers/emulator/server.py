"""``VendorEmulator``: a loopback HTTP server speaking Tencent's and Huawei's OCR protocols.

Routing: ``POST /`` with ``X-TC-Action`` is Tencent; ``POST /v3/auth/tokens`` is Huawei IAM;
``POST /v2/{project}/ocr/{endpoint}`` is Huawei OCR; ``/_emulator/...`` is the control API used by
``EmulatorControl`` from another process. Pure standard library (``ThreadingHTTPServer``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ocr_providers.emulator import huawei, tencent
from ocr_providers.emulator.script import RETRYABLE_FAIL_WAYS, Fault, Reply, parse_quota, reply_from_json
from ocr_providers.emulator.state import Credentials, EmulatorState, Incoming, Outgoing, Reader

__all__ = ["VendorEmulator"]

MAX_REQUEST = 16 * 1024 * 1024
CONTROL = "/_emulator/"


class VendorEmulator:
    """Both vendors on one loopback port. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0.0,
        quotas: Mapping[str, float] | None = None,
        fail_rate: float = 0.0,
        fail_ways: Sequence[str] = RETRYABLE_FAIL_WAYS,
        credentials: Credentials | None = None,
        reader: Reader | None = None,
        clock: Any = time.time,
        token_ttl: float = 24 * 3600.0,
        seed: int | None = None,
    ) -> None:
        self.state = EmulatorState(
            credentials=credentials or Credentials(), clock=clock, latency_ms=latency_ms, fail_rate=fail_rate,
            fail_ways=tuple(fail_ways), token_ttl=token_ttl, reader=reader, seed=seed,
        )  # fmt: skip
        for action, rate in (quotas or {}).items():
            self.state.quotas.set(action, rate)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> VendorEmulator:
        self._thread = threading.Thread(target=self.serve_forever, name="ocr-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.state.stopping.set()  # releases hung "timeout" faults and latency sleeps
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def close(self) -> None:
        """Release the socket after ``serve_forever`` returned in this thread (the command's Ctrl-C)."""
        self.state.stopping.set()
        self._server.server_close()

    def __enter__(self) -> VendorEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the in-process scripting API ---------------------------------------------------------------

    def script(self, action: str, *replies: Reply) -> None:
        """Queue replies for ``action`` (a Tencent action or a Huawei endpoint name), used in order."""
        self.state.script.add(action, *replies)

    def set_quota(self, action: str, per_second: float) -> None:
        self.state.quotas.set(action, per_second)

    def expire_tokens(self) -> None:
        """Make every IAM token issued so far expired (the next OCR call gets APIG.0307)."""
        huawei.expire_tokens(self.state)

    def withdraw(self, endpoint: str) -> None:
        """Answer ``endpoint`` with APIG.0101, as Huawei does for APIs taken offline."""
        self.state.withdrawn.add(endpoint)

    def count(self, vendor: str | None = None, action: str | None = None, outcome: str | None = None) -> int:
        """How many requests matched (``outcome``: "ok", a vendor error code, or "fault:<kind>")."""
        return self.state.count(vendor, action, outcome)

    def reset(self) -> None:
        self.state.reset()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: EmulatorState

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer (a killed worker, a timeout) is not the emulator's error.
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A vendor's front end answers without Nagle's delay: with it, the body (written after the headers)
    # waited for the client's delayed ACK, 40 ms added to every call on loopback.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the call log is the record

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        # Tencent counts a call when it arrives, not when its body has been read and its signature
        # checked: stamp it as soon as the headers are in.
        arrived = self.server.state.clock()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST:
            self._send(Outgoing(413, b"request too large", {"Content-Type": "text/plain"}), close=True)
            return
        split = urlsplit(self.path)
        req = Incoming(
            method=self.command, path=split.path, query=parse_qsl(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()}, body=self.rfile.read(length), arrived=arrived,
        )  # fmt: skip
        state = self.server.state
        if req.path.startswith(CONTROL):
            self._send(_control(self.server, req))
            return
        state.pause()
        vendor, outcome = _route(state, req)
        if isinstance(outcome, Fault):
            self._fault(outcome, vendor)
        else:
            self._send(outcome)

    def _send(self, out: Outgoing, *, close: bool = False) -> None:
        self.send_response(out.status)
        for name, value in out.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(out.body)

    def _fault(self, fault: Fault, vendor: str) -> None:
        self.close_connection = True
        # The client may give up first (as it should): a broken pipe is the expected end.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            _FAULTS[fault.kind](self, fault, vendor)


def _route(state: EmulatorState, req: Incoming) -> tuple[str, Outgoing | Fault]:
    if "x-tc-action" in req.headers:
        return "tencent", tencent.handle(state, req)
    if req.path == "/v3/auth/tokens":
        return "huawei", huawei.handle_iam(state, req)
    return "huawei", huawei.handle(state, req)


def _malformed(handler: _Handler, fault: Fault, vendor: str) -> None:
    body = b'{"Response": {"RequestId": "x", "Name": "\xe6\x9d' if vendor == "tencent" else b'{"result": {"name": '
    handler._send(Outgoing(200, body, {"Content-Type": "application/json"}), close=True)


def _http_error(handler: _Handler, fault: Fault, vendor: str) -> None:
    page = f"<html><body><h1>{fault.status}</h1>upstream error</body></html>".encode()
    handler._send(Outgoing(fault.status, page, {"Content-Type": "text/html"}), close=True)


def _truncated(handler: _Handler, fault: Fault, vendor: str) -> None:
    body = b'{"Response": {"Name": "' + b"x" * 2000 + b'", "RequestId": "truncated"}}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.wfile.flush()


def _oversized(handler: _Handler, fault: Fault, vendor: str) -> None:
    head, tail = b'{"Response": {"Padding": "', b'", "RequestId": "big"}}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if fault.declare_length:
        handler.send_header("Content-Length", str(len(head) + fault.size + len(tail)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(head)
    chunk = b"A" * 65536
    for _ in range(fault.size // len(chunk)):
        handler.wfile.write(chunk)
    handler.wfile.write(b"A" * (fault.size % len(chunk)) + tail)


def _timeout(handler: _Handler, fault: Fault, vendor: str) -> None:
    handler.server.state.stopping.wait(fault.seconds)  # never answers; released at shutdown


def _reset(handler: _Handler, fault: Fault, vendor: str) -> None:
    return  # close_connection is set: the socket closes without a status line


_FAULTS = {
    "http_error": _http_error,
    "malformed_json": _malformed,
    "truncated": _truncated,
    "oversized": _oversized,
    "timeout": _timeout,
    "reset": _reset,
}


def _control(server: _Server, req: Incoming) -> Outgoing:
    """The out-of-process scripting API (see ``EmulatorControl``)."""
    state = server.state
    try:
        data = json.loads(req.body or b"{}")
        command = req.path.removeprefix(CONTROL)
        result = _COMMANDS[command](state, data)
    except (KeyError, TypeError, ValueError) as exc:
        return Outgoing(400, json.dumps({"error": str(exc)}).encode(), {"Content-Type": "application/json"})
    return Outgoing(200, json.dumps(result).encode(), {"Content-Type": "application/json"})


def _cmd_script(state: EmulatorState, data: dict[str, Any]) -> dict[str, Any]:
    replies = [reply_from_json(r) for r in data["replies"]]
    state.script.add(data["action"], *replies)
    return {"queued": len(replies)}


def _cmd_quota(state: EmulatorState, data: dict[str, Any]) -> dict[str, Any]:
    action, rate = parse_quota(data["quota"]) if "quota" in data else (data["action"], float(data["per_second"]))
    state.quotas.set(action, rate)
    return {"action": action, "per_second": rate}


def _cmd_calls(state: EmulatorState, data: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        calls = [{"vendor": c.vendor, "action": c.action, "outcome": c.outcome} for c in state.calls]
    return {"calls": calls}


def _cmd_expire(state: EmulatorState, data: dict[str, Any]) -> dict[str, Any]:
    huawei.expire_tokens(state)
    return {"expired": True}


def _cmd_withdraw(state: EmulatorState, data: dict[str, Any]) -> dict[str, Any]:
    state.withdrawn.add(data["endpoint"])
    return {"withdrawn": sorted(state.withdrawn)}


def _cmd_reset(state: EmulatorState, data: dict[str, Any]) -> dict[str, Any]:
    state.reset()
    return {"reset": True}


_COMMANDS = {
    "script": _cmd_script,
    "quota": _cmd_quota,
    "calls": _cmd_calls,
    "expire-tokens": _cmd_expire,
    "withdraw": _cmd_withdraw,
    "reset": _cmd_reset,
}
