"""The emulator's shared state: credentials, scripts, quotas, tokens, the call log and the reader hook."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator.formats import FORMATTERS
from ocr_providers.emulator.samples import SAMPLES
from ocr_providers.emulator.script import (
    RETRYABLE_FAIL_WAYS,
    Fault,
    Quotas,
    Reply,
    Script,
    VendorError,
    fail_ways_checked,
)

__all__ = ["Call", "Credentials", "EmulatorState", "Incoming", "Outgoing", "Reader", "Unreadable"]

# reader(image, document_type_hint, side_hint) -> (document_type, side, canonical fields); it raises
# ``Unreadable`` for an image with no document on it. ``None`` means "no opinion": the FIXED SAMPLE.
Reader = Callable[[bytes, DocumentType, Side], tuple[DocumentType, Side, Mapping[str, Any]] | None]


class Unreadable(Exception):
    """The reader found no document in the image (``wrong_type=False``), or one of another type than
    the action reads; each vendor handler answers with its own error code for the case."""

    def __init__(self, message: str = "", *, wrong_type: bool = False) -> None:
        super().__init__(message)
        self.wrong_type = wrong_type


@dataclass(frozen=True)
class Credentials:
    """Who the emulator lets in. Defaults are the example credentials of vendors.md's test vectors."""

    # secret_id -> (secret_key, session token required with it or "")
    tencent: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE": ("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", ""),
            "AKIDTEMPORARYEXAMPLE0000000000000000": (
                "TEMPORARYSECRETKEYEXAMPLE0000000",
                "EXAMPLE-SESSION-TOKEN",
            ),
        }
    )
    huawei_aksk: Mapping[str, str] = field(
        default_factory=lambda: {"HPUAEXAMPLEAK0000000": "EXAMPLESECRETKEY000000000000000000000000"}
    )
    # (domain, user) -> password
    iam_users: Mapping[tuple[str, str], str] = field(
        default_factory=lambda: {("example-domain", "example-user"): "example-password"}
    )
    project_id: str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    region: str = "ap-southeast-1"


@dataclass(frozen=True)
class Incoming:
    """One request as the server read it (header names lowercased)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    arrived: float | None = None  # state clock when the request line and headers were in (None: now)


@dataclass(frozen=True)
class Outgoing:
    """One ordinary answer."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One entry of the call log: which vendor and action, and how it was answered."""

    vendor: str
    action: str
    outcome: str  # "ok", a vendor error code, or "fault:<kind>"


@dataclass
class EmulatorState:
    """Everything the request handlers read and write, behind one lock where it matters."""

    credentials: Credentials = field(default_factory=Credentials)
    clock: Callable[[], float] = time.time
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_ways: tuple[str, ...] = RETRYABLE_FAIL_WAYS
    token_ttl: float = 24 * 3600.0
    reader: Reader | None = None
    seed: int | None = None
    script: Script = field(default_factory=Script)
    quotas: Quotas = field(init=False)
    calls: list[Call] = field(default_factory=list)
    tokens: dict[str, tuple[float, str]] = field(default_factory=dict)  # token -> (expires_at, project id)
    ak_failures: dict[str, int] = field(default_factory=dict)
    ak_locked_until: dict[str, float] = field(default_factory=dict)
    withdrawn: set[str] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.fail_ways = fail_ways_checked(self.fail_ways)
        self.quotas = Quotas(clock=self.clock)
        self._rng = random.Random(self.seed)

    def record(self, vendor: str, action: str, outcome: str) -> None:
        with self.lock:
            self.calls.append(Call(vendor, action, outcome))

    def count(self, vendor: str | None = None, action: str | None = None, outcome: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for c in self.calls
                if (vendor is None or c.vendor == vendor)
                and (action is None or c.action == action)
                and (outcome is None or c.outcome == outcome)
            )

    def reply_for(self, action: str, vendor_errors: Mapping[str, VendorError]) -> Reply | None:
        """The scripted reply, else a random failure at ``fail_rate`` (one of ``fail_ways``; a vendor
        failure is the vendor's own error from ``vendor_errors``), else ``None`` (answer normally)."""
        scripted = self.script.next(action)
        if scripted is not None:
            return scripted
        with self.lock:
            roll = self._rng.random()
            pick = self._rng.choice(self.fail_ways)
        if roll >= self.fail_rate:
            return None
        return vendor_errors[pick] if pick in vendor_errors else Fault(pick)

    def canonical_answer(
        self, vendor: str, action: str, image: bytes, document_type: DocumentType, side: Side
    ) -> dict[str, Any]:
        """Unscripted answer: the reader's reading when one is plugged in, else the FIXED SAMPLE.

        Raises ``Unreadable`` when the reader sees no document, or a document the action does not read.
        """
        reading = self.reader(image, document_type, side) if self.reader else None
        if reading is not None:
            found, side, fields = reading
            if found is not document_type:
                raise Unreadable(f"the image shows a {found.value}", wrong_type=True)
        else:
            fields = SAMPLES[(document_type, side)]
        return FORMATTERS[(vendor, action)](fields, document_type=document_type, side=side)

    def pause(self) -> None:
        """Injected latency; interrupted by shutdown."""
        if self.latency_ms > 0:
            self.stopping.wait(self.latency_ms / 1000)

    def reset(self) -> None:
        self.script.clear()
        self.quotas.clear()
        with self.lock:
            self.calls.clear()
            self.tokens.clear()
            self.ak_failures.clear()
            self.ak_locked_until.clear()
            self.withdrawn.clear()
