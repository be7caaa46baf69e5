"""The status machines of documents and cases: pure data and functions, no database."""

from __future__ import annotations

from kyc.choices import CaseStatus, DocumentStatus

__all__ = [
    "CASE_TERMINAL",
    "CASE_TRANSITIONS",
    "DOCUMENT_TERMINAL",
    "DOCUMENT_TRANSITIONS",
    "case_can_transition",
    "document_can_transition",
]

D = DocumentStatus
DOCUMENT_TRANSITIONS: dict[DocumentStatus, frozenset[DocumentStatus]] = {
    D.RECEIVED: frozenset({D.QUEUED, D.REJECTED, D.RESUBMISSION_REQUESTED}),
    D.QUEUED: frozenset({D.PROCESSING, D.FAILED, D.REJECTED, D.RESUBMISSION_REQUESTED}),
    # processing -> queued: a retry after a retryable error, or the reaper re-queueing a stuck job.
    D.PROCESSING: frozenset({D.EXTRACTED, D.UNREADABLE, D.FAILED, D.QUEUED}),
    D.EXTRACTED: frozenset({D.APPROVED, D.REJECTED, D.RESUBMISSION_REQUESTED, D.QUEUED}),
    D.UNREADABLE: frozenset({D.QUEUED, D.REJECTED, D.RESUBMISSION_REQUESTED}),
    D.FAILED: frozenset({D.QUEUED, D.REJECTED, D.RESUBMISSION_REQUESTED}),
    D.APPROVED: frozenset(),
    D.REJECTED: frozenset(),
    D.RESUBMISSION_REQUESTED: frozenset(),
}
DOCUMENT_TERMINAL = frozenset(s for s, targets in DOCUMENT_TRANSITIONS.items() if not targets)

C = CaseStatus
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    # open -> approved is the auto-approval route; the routing policy decides when it may be taken.
    C.OPEN: frozenset({C.IN_REVIEW, C.APPROVED, C.REJECTED, C.RESUBMISSION_REQUESTED}),
    C.IN_REVIEW: frozenset({C.AWAITING_SECOND_APPROVAL, C.APPROVED, C.REJECTED, C.RESUBMISSION_REQUESTED}),
    C.AWAITING_SECOND_APPROVAL: frozenset({C.APPROVED, C.REJECTED, C.IN_REVIEW}),
    # New documents arrive: the case goes back to open and through review again.
    C.RESUBMISSION_REQUESTED: frozenset({C.OPEN}),
    C.APPROVED: frozenset(),
    C.REJECTED: frozenset(),
}
CASE_TERMINAL = frozenset(s for s, targets in CASE_TRANSITIONS.items() if not targets)


def _targets(machine: dict[str, frozenset[str]], current: str) -> frozenset[str]:
    return machine.get(current, frozenset())


def document_can_transition(current: str, target: str) -> bool:
    """True when a document may move from ``current`` to ``target``."""
    return target in _targets(DOCUMENT_TRANSITIONS, current)  # type: ignore[arg-type]


def case_can_transition(current: str, target: str) -> bool:
    """True when a case may move from ``current`` to ``target``."""
    return target in _targets(CASE_TRANSITIONS, current)  # type: ignore[arg-type]
