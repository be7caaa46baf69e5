"""Readers for the emulator: what an unscripted request answers when it is not a FIXED SAMPLE.

``engine_reader()`` reads the posted image with the offline engine (``ocr_providers.local``) and hands
its canonical fields to the per-vendor formatters, so an unscripted call returns what the image says,
formatted as that vendor would. An image the engine cannot read as a document raises ``Unreadable``;
the vendor handlers answer it with that vendor's own "no document" error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ocr_providers.base import OcrRequest, OcrResult, ProviderConfig
from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator.state import Reader, Unreadable
from ocr_providers.exceptions import OcrRejected

__all__ = ["Recognizer", "engine_reader"]

Reading = tuple[DocumentType, Side, Mapping[str, Any]]


class Recognizer(Protocol):
    """Anything with the providers' ``recognize``; the offline provider in practice."""

    def recognize(self, request: OcrRequest) -> OcrResult: ...


def _local() -> Recognizer:
    from ocr_providers.local.provider import LocalOcrProvider  # heavy: only when the reader is built

    provider = LocalOcrProvider(ProviderConfig(name="local"))
    provider.warm()
    return provider


def engine_reader(provider: Recognizer | None = None) -> Reader:
    """A ``Reader`` over ``provider`` (default: a warmed offline engine built now)."""
    engine = provider or _local()

    def read(image: bytes, document_type: DocumentType, side: Side) -> Reading:
        request = OcrRequest(image=image, document_type=document_type, side=side)
        try:
            result = engine.recognize(request)
        except OcrRejected as exc:
            raise Unreadable(str(exc)) from exc
        if result.document_type is None or result.side is None:
            raise Unreadable("no document type recognised")
        fields = {name: f.value for name, f in result.fields.items() if f.value is not None}
        return DocumentType(result.document_type), Side(result.side), fields

    return read
