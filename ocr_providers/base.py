"""The provider contract: one request shape in, one normalised result out.

Providers never import Django; ``kyc.services.ocr`` is the only bridge. Vendor JSON never leaves a
provider module except as ``OcrResult.raw`` with every base64 image stripped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ocr_providers.documents import DocumentType, Side

__all__ = [
    "OcrField",
    "OcrProvider",
    "OcrRequest",
    "OcrResult",
    "Point",
    "Portrait",
    "ProviderConfig",
]

Point = tuple[int, int]


@dataclass(frozen=True)
class OcrRequest:
    """What the pipeline asks of a provider. ``document_type``/``side`` are hints: the provider may
    detect otherwise and must then say so in ``OcrResult.detected_type``."""

    image: bytes = field(repr=False)
    document_type: DocumentType | None = None
    side: Side | None = None
    action: str = ""  # vendor action/endpoint; "" or "auto" lets the provider pick from the type
    return_portrait: bool = True
    return_portrait_location: bool = True
    # Monotonic time (time.monotonic) before which the request must not leave: the caller's quota slot.
    # The provider builds and signs everything first and waits only right before sending.
    not_before: float = 0.0
    # Monotonic time after which the request must not leave (0: no limit): a call that misses its slot
    # by more than a little would crowd the next slot's call into one vendor window.
    send_by: float = 0.0


@dataclass(frozen=True)
class OcrField:
    """One canonical field. ``value`` is normalised (ISO dates, M/F, ...); ``raw`` is as the vendor read
    it. ``confidence`` is 0..1, or ``None`` where the vendor gives none."""

    value: Any
    raw: str = ""
    confidence: float | None = None
    source: str = "vendor"  # "vendor" or "machine_code" (the reviewer source only exists in kyc)


@dataclass(frozen=True)
class Portrait:
    image: bytes = field(repr=False)
    # Four corners (top-left, top-right, bottom-right, bottom-left) in the submitted image's pixels,
    # or empty when the vendor does not locate it.
    corners: tuple[Point, ...] = ()
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class OcrResult:
    provider: str
    action: str
    document_type: DocumentType | None  # as detected; None when not a recognised document
    side: Side | None
    fields: Mapping[str, OcrField] = field(default_factory=dict, repr=False)
    portraits: tuple[Portrait, ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()  # ocr_providers.documents.Warning values
    request_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)  # base64 images stripped
    detected_type: bool = False  # True when the type was detected rather than taken from the request
    # The vendor's own time: from each request leaving to its answer read, summed over the call's requests
    # (the offline engine: its run time). Not our building, signing, quota-slot wait or parsing.
    latency_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the probe prints and the API returns (portrait bytes left out)."""
        return {
            "document_type": self.document_type.value if self.document_type else None,
            "side": self.side.value if self.side else None,
            "fields": {
                name: {"value": f.value, "raw": f.raw, "confidence": f.confidence} for name, f in self.fields.items()
            },
            "warnings": list(self.warnings),
            "portraits": [
                {"corners": [list(p) for p in pt.corners], "bytes": len(pt.image), "content_type": pt.content_type}
                for pt in self.portraits
            ],
            "provider": self.provider,
            "action": self.action,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class ProviderConfig:
    """Built once from ``settings.KYC_OCR`` by kyc; secrets never appear in ``repr``."""

    name: str
    endpoint: str = ""
    region: str = ""
    secret_id: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)
    project_id: str = ""
    iam_endpoint: str = ""
    iam_username: str = field(default="", repr=False)
    iam_password: str = field(default="", repr=False)
    iam_domain: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 45.0
    max_response_bytes: int = 20 * 1024 * 1024
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class OcrProvider(Protocol):
    """Every provider implements this. ``recognize`` raises an ``OcrError`` subclass on failure."""

    name: str

    def recognize(self, request: OcrRequest) -> OcrResult: ...
