"""What tests and partners can make the emulator say: answers, vendor errors and faults, per action.

A script is a FIFO queue per action; each request to that action takes the next reply, and an empty
queue means "answer normally". Replies travel as JSON over the control endpoint::

    {"answer": {...}}                                   vendor-shaped success body (without RequestId)
    {"error": {"code": "...", "message": "...", "status": 401}}
    {"fault": {"kind": "timeout", "seconds": 30}}       kinds: see FAULT_KINDS
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "FAIL_WAYS",
    "FAULT_KINDS",
    "RETRYABLE_FAIL_WAYS",
    "Answer",
    "Fault",
    "Quotas",
    "Reply",
    "Script",
    "VendorError",
    "fail_ways_checked",
    "reply_from_json",
]

# http_error: a bare 5xx page (no vendor envelope); timeout: accept, then never answer (until
# ``seconds`` or shutdown); malformed_json: 200 with a cut JSON document; truncated: Content-Length
# promises more than is sent before the connection closes; oversized: a valid but huge body
# (``declare_length`` False streams it without Content-Length); reset: close without any answer.
FAULT_KINDS = ("http_error", "timeout", "malformed_json", "truncated", "oversized", "reset")

# The ways an unscripted call fails at random (``fail_rate``): each fault kind, and each vendor's own error
# for an internal failure, a request over the rate limit, a photo it cannot read (final: unreadable) and
# an image larger than it takes (final: failed). The default is the first mix, all retryable.
VENDOR_FAILURES = ("internal_error", "rate_limited", "unreadable", "too_large")
FAIL_WAYS = FAULT_KINDS + VENDOR_FAILURES
RETRYABLE_FAIL_WAYS = ("http_error", "malformed_json", "truncated", "internal_error")


def fail_ways_checked(ways: Sequence[str]) -> tuple[str, ...]:
    """``ways`` as a tuple; ``ValueError`` naming any unknown way, or none given."""
    unknown = [way for way in ways if way not in FAIL_WAYS]
    if unknown or not ways:
        problem = f"unknown ways to fail {unknown}" if unknown else "no way to fail given"
        raise ValueError(f"{problem}; known: {', '.join(FAIL_WAYS)}")
    return tuple(ways)


@dataclass(frozen=True)
class Answer:
    """A successful vendor answer: Tencent's ``Response`` fields, or Huawei's ``result`` object."""

    body: Mapping[str, Any]


@dataclass(frozen=True)
class VendorError:
    """A vendor error envelope; ``status`` defaults to the vendor's usual one (Tencent 200, Huawei 400)."""

    code: str
    message: str = ""
    status: int | None = None


@dataclass(frozen=True)
class Fault:
    """A transport-level misbehaviour (see ``FAULT_KINDS``)."""

    kind: str
    status: int = 503
    seconds: float = 30.0
    size: int = 32 * 1024 * 1024
    declare_length: bool = True

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {FAULT_KINDS}")


Reply = Answer | VendorError | Fault


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    """Parse one reply in the control-endpoint JSON shape."""
    if "answer" in data:
        return Answer(dict(data["answer"]))
    if "error" in data:
        return VendorError(**data["error"])
    if "fault" in data:
        fault = data["fault"]
        return Fault(**({"kind": fault} if isinstance(fault, str) else fault))
    raise ValueError("a reply is {'answer': ...}, {'error': ...} or {'fault': ...}")


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The inverse of ``reply_from_json`` (used by ``EmulatorControl``)."""
    if isinstance(reply, Answer):
        return {"answer": dict(reply.body)}
    key = "error" if isinstance(reply, VendorError) else "fault"
    return {key: asdict(reply)}


class Script:
    """Per-action queues of replies, safe to use from the server's threads and the test's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)

    def add(self, action: str, *replies: Reply) -> None:
        with self._lock:
            self._queues[action].extend(replies)

    def next(self, action: str) -> Reply | None:
        with self._lock:
            queue = self._queues.get(action)
            return queue.popleft() if queue else None

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()


@dataclass
class Quotas:
    """Per-action limits in calls per second, counted at arrival over a sliding one-second window."""

    clock: Callable[[], float]
    limits: dict[str, float] = field(default_factory=dict)
    _seen: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, action: str, per_second: float) -> None:
        with self._lock:
            self.limits[action] = per_second

    def admit(self, action: str, at: float | None = None) -> bool:
        """Record one arrival (at ``at`` on the clock, default now); False when the one-second window
        ending there already holds the action's limit (rejected calls are not counted). Threads may
        record arrivals slightly out of order, so the window is counted, not assumed to be the tail."""
        with self._lock:
            limit = self.limits.get(action)
            if limit is None:
                return True
            now = self.clock() if at is None else at
            seen = self._seen[action]
            while seen and seen[0] <= now - 2.0:  # keep enough history for late-stamped arrivals
                seen.popleft()
            if sum(1 for t in seen if now - 1.0 < t <= now) >= limit:
                return False
            if not seen or seen[-1] <= now:
                seen.append(now)
            else:
                index = bisect.bisect_right(seen, now)
                seen.insert(index, now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def parse_quota(text: str) -> tuple[str, float]:
    """``PermitOCR=10/s`` (or ``=10``) -> ("PermitOCR", 10.0)."""
    action, _, rate = text.partition("=")
    number = rate.strip().removesuffix("/s")
    if not action or not number:
        raise ValueError(f"a quota is ACTION=N/s, not {text!r}")
    return action.strip(), float(number)
