"""The data model of the document checks: what a check reads and what it reports.

Checks are pure functions over the normalised OCR result of one document side. They never touch the
database: anything that needs stored data (the duplicate-number lookup) comes in as a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Protocol

from ocr_providers.documents import DocumentType, Side

__all__ = [
    "FAIL",
    "NOT_AVAILABLE",
    "PASS",
    "RESULTS",
    "WARN",
    "CheckInput",
    "CheckOutcome",
    "DuplicateLookup",
    "FieldLike",
    "Holders",
]

PASS: Final = "pass"  # noqa: S105 - a check result, not a password
FAIL: Final = "fail"
WARN: Final = "warn"
NOT_AVAILABLE: Final = "not_available"
RESULTS: Final = (PASS, FAIL, WARN, NOT_AVAILABLE)

# (namespace, number as read) -> ids of *other* applicants holding that number. Namespace is "hkid"
# for HKID numbers (the card's own and a Mainland Travel Permit back side's), else the document type.
# A lookup may answer with ``Holders`` to say it did not read every document carrying the number.
DuplicateLookup = Callable[[str, str], list[str]]


class Holders(list[str]):
    """The other applicants a duplicate lookup found. ``partial``: it stopped reading before it had seen
    every document carrying the number (a number on thousands of documents), so there may be more."""

    partial: bool = False


class FieldLike(Protocol):
    """What a check reads from a field: ``ocr_providers.base.OcrField`` or a stored field row."""

    @property
    def value(self) -> Any: ...

    @property
    def raw(self) -> str: ...

    @property
    def confidence(self) -> float | None: ...

    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict. ``detail`` is a sentence for a reviewer and never holds personal data in
    full; ``data`` holds field names, flags and counts for machines (no personal values either)."""

    code: str
    result: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise ValueError(f"unknown check result {self.result!r}")


@dataclass(frozen=True, kw_only=True)
class CheckInput:
    """Everything the checks need about one document side.

    ``declared`` holds what the applicant declared (``name_zh``, ``name_en``, ``birth_date`` as ISO,
    ``nationality``), possibly nothing. ``today`` is passed in so checks stay pure and testable.
    """

    document_type: DocumentType
    side: Side
    fields: Mapping[str, FieldLike]
    today: date
    warnings: Sequence[str] = ()
    declared: Mapping[str, str] = field(default_factory=dict)
    expiry_warning_days: int = 90
    duplicate_lookup: DuplicateLookup | None = None

    def __post_init__(self) -> None:
        # Accept plain strings from callers (the stored values are strings) but work with the enums.
        object.__setattr__(self, "document_type", DocumentType(self.document_type))
        object.__setattr__(self, "side", Side(self.side))

    def value(self, name: str) -> Any:
        """The normalised value of ``name``, or ``None`` when the field was not read."""
        item = self.fields.get(name)
        if item is None or item.value in ("", [], None):
            return None
        return item.value

    def text(self, name: str) -> str | None:
        """The value of ``name`` as a stripped string, or ``None`` when not read."""
        value = self.value(name)
        return str(value).strip() or None if value is not None else None

    def source(self, name: str) -> str | None:
        """Where the field's value came from (``vendor``, ``machine_code``...), ``None`` if absent."""
        item = self.fields.get(name)
        return item.source if item is not None else None
