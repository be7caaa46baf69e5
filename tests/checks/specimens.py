"""Check inputs built from the specimen generator's ground truth (no images, no OCR)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from kyc.checks import CheckInput
from kyc.specimens.identities import REFERENCE_DATE
from kyc.specimens.truth import build
from ocr_providers.base import OcrField
from ocr_providers.documents import SIDES, DocumentType, Side

SEED = 2026
INDICES = range(6)
TODAY: date = REFERENCE_DATE  # every specimen's own "today": all are valid on it
# (type, side) pairs that exist, for parametrising.
ALL_SIDES = [(t, s) for t in DocumentType for s in SIDES[t]]
FRONTS = list(DocumentType)


def truth(document_type: DocumentType, side: Side = Side.FRONT, index: int = 0) -> dict[str, Any]:
    """The ground truth of one side, seeded exactly as ``render_specimen`` seeds it."""
    rng = random.Random(f"{SEED}|{document_type}|{index}")
    return dict(build(document_type, rng)[side].truth)


def make_input(
    document_type: DocumentType,
    side: Side = Side.FRONT,
    *,
    index: int = 0,
    changes: Mapping[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    sources: Mapping[str, str] | None = None,
    **options: Any,
) -> CheckInput:
    """A check input from specimen truth; ``changes`` overrides values, ``drop`` removes fields."""
    values = truth(document_type, side, index) | dict(changes or {})
    fields = {
        name: OcrField(value=value, raw=str(value), confidence=0.99, source=(sources or {}).get(name, "vendor"))
        for name, value in values.items()
        if name not in drop
    }
    today = options.pop("today", TODAY)
    return CheckInput(document_type=document_type, side=side, fields=fields, today=today, **options)


def lookup_returning(*ids: str) -> Callable[[str, str], list[str]]:
    """A duplicate lookup that records its calls and answers ``ids``."""
    calls: list[tuple[str, str]] = []

    def lookup(namespace: str, number: str) -> list[str]:
        calls.append((namespace, number))
        return list(ids)

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup
