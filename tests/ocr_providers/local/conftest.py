"""Fixtures for the offline engine's tests: one warmed provider per session, specimens on demand."""

from __future__ import annotations

import pytest

from kyc.specimens import render_specimen
from ocr_providers.base import OcrRequest, ProviderConfig
from ocr_providers.local import LocalOcrProvider

SEED = 4242


@pytest.fixture(scope="session")
def provider() -> LocalOcrProvider:
    """The engine loads once for the whole session (models are 31 MB and load in about a second)."""
    local = LocalOcrProvider(ProviderConfig(name="local", options={"ocr_workers": 1}))
    local.warm()
    return local


@pytest.fixture(scope="session")
def read(provider):
    """``read(doc, side, condition, index, hint_type, hint_side)`` -> (OcrResult, specimen record)."""

    def _read(doc, side, condition="clean", index=0, hint_type=None, hint_side=None):
        jpeg, record = render_specimen(doc, side, SEED, index, condition)
        return provider.recognize(OcrRequest(image=jpeg, document_type=hint_type, side=hint_side)), record

    return _read
