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
