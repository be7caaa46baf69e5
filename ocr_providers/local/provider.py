"""``LocalOcrProvider``: the built-in offline provider (``KYC_OCR_PROVIDER=local``).

Pipeline per uploaded side (OFFLINE-OCR.md section 7.2): decode (EXIF-aware) -> page OCR with the
line classifier off -> document type and side from the page itself -> if nothing is recognised,
the same page turned 180 degrees (upside-down uploads are handled per page, never per line) ->
machine code first, then the labelled visual zone, cross-filled -> calibrated confidence -> portrait.

A page on which no document can be recognised raises ``OcrRejected(code="not_a_document")`` rather
than returning invented fields. Fields the engine could not find are absent from ``fields`` and
listed in ``raw["missing"]``; they are never empty strings.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from ocr_providers.base import OcrRequest, OcrResult, Portrait, ProviderConfig
from ocr_providers.documents import FIELDS, DocumentType, Side, Warning
from ocr_providers.exceptions import OcrRejected
from ocr_providers.local import backs, hkid, passport, permits
from ocr_providers.local.detect import Detection, detect
from ocr_providers.local.engine import Image, OcrEngine, get_engine, threads_for
from ocr_providers.local.extraction import Extraction
from ocr_providers.local.geometry import page_frame
from ocr_providers.local.image import decode, encode_jpeg, rotate_180
from ocr_providers.local.page import Page
from ocr_providers.local.portrait import locate

__all__ = ["EXTRACTORS", "LocalOcrProvider", "read_page"]

EXTRACTORS: dict[tuple[DocumentType, Side], Callable[[Page], Extraction]] = {
    (DocumentType.HK_ID_CARD, Side.FRONT): hkid.front,
    (DocumentType.CN_PASSPORT, Side.FRONT): passport.front,
    (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT): permits.eep_front,
    (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK): backs.eep_back,
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.FRONT): permits.mtp_front,
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK): backs.mtp_back,
}
NOT_A_DOCUMENT = "not a recognised document: no title, machine code or layout of a supported document was found"


def read_page(engine: OcrEngine, image: Image) -> tuple[Page, Detection | None, bool]:
    """OCR the page; if no document is recognised, try it upside down. Returns (page, detection,
    rotated)."""
    page = Page(image, engine, page_frame(engine.page(image)))
    found = detect(page.frame) if page.frame.boxes else None
    if found is not None:
        return page, found, False
    turned = rotate_180(image)
    flipped = Page(turned, engine, page_frame(engine.page(turned)))
    again = detect(flipped.frame) if flipped.frame.boxes else None
    if again is not None:
        return flipped, again, True
    return page, None, False


def _choose(request: OcrRequest, found: Detection) -> tuple[DocumentType, Side, bool]:
    """The detected type and side; ``True`` when that is not what the caller said (or it said nothing)."""
    doc, side, _score = found
    overridden = request.document_type is None or DocumentType(request.document_type) != doc
    return doc, side, overridden


def _portrait(image: Image, doc: DocumentType, ex: Extraction, scale: float, rotated: bool) -> tuple[Portrait, ...]:
    located = locate(image, doc, ex)
    if located is None:
        return ()
    crop, corners = located
    h, w = image.shape[:2]
    if rotated:  # corners back into the submitted (upside-down) picture
        corners = tuple((w - 1 - x, h - 1 - y) for x, y in corners)
    points = tuple((round(x / scale), round(y / scale)) for x, y in corners)
    return (Portrait(image=encode_jpeg(crop), corners=points),)


class LocalOcrProvider:
    """Offline OCR on RapidOCR/onnxruntime with the bundled models: no account, no network."""

    name = "local"

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.threads = threads_for(config.options)

    def warm(self) -> None:
        """Load the models now (call at worker start, not on the first request)."""
        from ocr_providers.local.engine import warm

        warm(self.threads)

    def recognize(self, request: OcrRequest) -> OcrResult:
        started = time.monotonic()
        image, scale = decode(request.image)
        page, found, rotated = read_page(get_engine(self.threads), image)
        if found is None:
            raise OcrRejected(NOT_A_DOCUMENT, code="not_a_document")
        doc, side, detected = _choose(request, found)
        ex = EXTRACTORS[(doc, side)](page)
        wanted = FIELDS[(doc, side)]
        fields = {name: ex.fields[name].field for name in wanted if name in ex.fields}
        if not fields:
            raise OcrRejected(
                NOT_A_DOCUMENT + " (the page names one, but no field could be read)", code="not_a_document"
            )
        warnings = self._warnings(ex, wanted, rotated)
        want_portrait = request.return_portrait or request.return_portrait_location
        portraits = _portrait(page.image, doc, ex, scale, rotated) if want_portrait else ()
        if portraits and not request.return_portrait:
            portraits = (Portrait(image=b"", corners=portraits[0].corners),)
        raw = self._raw(request, ex, wanted, found, rotated, page)
        return OcrResult(
            provider=self.name, action=f"local:{doc.value}:{side.value}", document_type=doc, side=side,
            fields=fields, portraits=portraits, warnings=warnings, request_id=uuid.uuid4().hex, raw=raw,
            detected_type=detected, latency_ms=round((time.monotonic() - started) * 1000),
        )  # fmt: skip

    @staticmethod
    def _warnings(ex: Extraction, wanted: tuple[str, ...], rotated: bool) -> tuple[str, ...]:
        out = []
        if any(f.conflict for f in ex.fields.values()):
            out.append(Warning.FIELD_DISAGREEMENT.value)
        if any(name not in ex.fields for name in wanted):
            out.append(Warning.INCOMPLETE.value)
        return tuple(out)

    @staticmethod
    def _raw(
        request: OcrRequest,
        ex: Extraction,
        wanted: tuple[str, ...],
        found: Detection,
        rotated: bool,
        page: Page,
    ) -> dict[str, object]:
        machine = ex.machine
        return {
            "engine": page.engine.version,
            "detected": {"document_type": found[0].value, "side": found[1].value, "score": found[2]},
            "requested": {
                "document_type": str(request.document_type.value) if request.document_type else None,
                "side": str(request.side.value) if request.side else None,
            },
            "rotated_180": rotated,
            "evidence": {name: f.evidence for name, f in ex.fields.items() if name in wanted},
            "missing": [name for name in wanted if name not in ex.fields],
            "machine_code": None if machine is None else {
                "kind": machine.code.kind, "valid": machine.valid, "checks": dict(machine.code.checks),
                "repairs": machine.toggles, "rereads": machine.rungs,
            },
            "rereads": page.rereads,
        }  # fmt: skip
