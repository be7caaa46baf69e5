"""A scripted provider for pipeline tests: replaces the vendor at the ocr_providers boundary."""

from __future__ import annotations

from collections import deque
from typing import Any

from kyc.specimens import render_specimen
from ocr_providers import PROVIDERS, OcrError, OcrField, OcrRequest, OcrResult, Portrait, ProviderConfig
from ocr_providers.documents import DocumentType, Side


class ScriptedProvider:
    """Answers each call with the next scripted outcome: an OcrResult, or an OcrError to raise."""

    name = "scripted"
    script: deque[Any] = deque()
    calls: list[OcrRequest] = []

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    def recognize(self, request: OcrRequest) -> OcrResult:
        type(self).calls.append(request)
        outcome = type(self).script.popleft()
        if isinstance(outcome, OcrError):
            raise outcome
        return outcome


class OtherScriptedProvider(ScriptedProvider):
    name = "scripted2"
    script: deque[Any] = deque()
    calls: list[OcrRequest] = []


PROVIDERS.setdefault("scripted", "tests.support:ScriptedProvider")
PROVIDERS.setdefault("scripted2", "tests.support:OtherScriptedProvider")


def truth_result(
    document_type: str,
    side: str = "front",
    *,
    index: int = 0,
    seed: int = 7,
    confidence: float = 0.99,
    overrides: dict[str, Any] | None = None,
    warnings: tuple[str, ...] = (),
    provider: str = "scripted",
    portrait: bytes | None = None,
) -> OcrResult:
    """A result that reads a specimen exactly as its ground truth says (optionally altered)."""
    _image, record = render_specimen(document_type, side, seed=seed, index=index)
    truth = {**record["truth"], **(overrides or {})}
    fields = {
        name: OcrField(value=value, raw=str(value), confidence=confidence)
        for name, value in truth.items()
        if value is not None
    }
    portraits = (Portrait(image=portrait, corners=((10, 10), (90, 10), (90, 120), (10, 120))),) if portrait else ()
    return OcrResult(
        provider=provider,
        action="TEST",
        document_type=DocumentType(document_type),
        side=Side(side),
        fields=fields,
        warnings=warnings,
        request_id="req-test",
        raw={"Response": {"ok": True}},
        portraits=portraits,
    )


def specimen_image(document_type: str, side: str = "front", index: int = 0) -> bytes:
    return render_specimen(document_type, side, seed=7, index=index)[0]


class RoundTrips:
    """The round trips the default connection makes to PostgreSQL inside the block, counted from
    libpq's own protocol trace: each Sync or simple Query the client sends ends one (the server
    answers then). ``sent`` holds the client's messages, in order, to see what went out together."""

    def __enter__(self) -> RoundTrips:
        import tempfile

        from django.db import connection
        from psycopg import pq

        connection.ensure_connection()
        self._pgconn = connection.connection.pgconn
        self._file = tempfile.TemporaryFile("w+")
        self._pgconn.trace(self._file.fileno())
        self._pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pgconn.untrace()  # flushes libpq's buffer into the file
        self._file.seek(0)
        self.sent = [line.split("\t", 2)[2] for line in self._file.read().splitlines() if line.startswith("F\t")]
        self._file.close()

    @property
    def count(self) -> int:
        return len(self.trips())

    def trips(self) -> list[list[str]]:
        """The client's messages grouped by round trip (each ends with its Sync or Query)."""
        out: list[list[str]] = [[]]
        for message in self.sent:
            out[-1].append(message)
            if message == "Sync" or message.startswith("Query\t"):
                out.append([])
        return out[:-1]  # what follows the last Sync (a pipeline's closing Flush) waits for no answer


def terminate_backend(connection: Any) -> int:
    """End ``connection``'s PostgreSQL backend from another connection, as a server restart or a failover
    does, and wait until the server's FATAL message and the socket's end have reached it (``is_usable``
    false). Returns the ended backend's pid."""
    import time

    import psycopg

    pid = int(connection.connection.info.backend_pid)
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    for _ in range(100):  # they arrive soon after
        if not connection.is_usable():
            break
        time.sleep(0.02)
    return pid
