"""Top-level API: render specimens in memory or write them with their ground truth to a folder.

Seeding: the identity of specimen ``index`` of ``document_type`` depends only on ``(seed,
document_type, index)``; each side's background and each condition's parameters have their own
seeded stream, so adding a condition never changes the other files.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from kyc.specimens import truth as truth_mod
from kyc.specimens.degrade import CONDITIONS, degrade
from kyc.specimens.layouts import layout_for
from kyc.specimens.render import render
from ocr_providers.documents import SIDES, DocumentType, Side

GENERATOR_VERSION = "kyc.specimens/1"
PREFIXES = {
    DocumentType.HK_ID_CARD: "hkid",
    DocumentType.CN_PASSPORT: "passport",
    DocumentType.EXIT_ENTRY_PERMIT: "eep",
    DocumentType.MAINLAND_TRAVEL_PERMIT: "mtp",
}


@dataclass
class Specimen:
    """One generated document: its ground-truth record and, once written, its files."""

    id: str
    document_type: DocumentType
    record: dict[str, Any]
    json_path: Path | None = None
    files: dict[str, dict[str, Path]] = field(default_factory=dict)  # side -> condition -> image


def specimen_id(document_type: DocumentType | str, seed: int, index: int) -> str:
    """``hkid_s2026_0003``: type prefix, seed and index, unique across seeds."""
    return f"{PREFIXES[DocumentType(document_type)]}_s{seed}_{index:04d}"


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _sides(document_type: DocumentType, seed: int, index: int) -> dict[Side, truth_mod.SideTruth]:
    return truth_mod.build(document_type, random.Random(f"{seed}|{document_type}|{index}"))


def _clean(document_type: DocumentType, side: Side, side_truth: truth_mod.SideTruth, sid: str):
    layout = layout_for(document_type, side, side_truth.truth)
    return render(layout, side_truth.printed, random.Random(f"{sid}|{side}|render"))


def render_specimen(
    document_type: DocumentType | str, side: Side | str, seed: int, index: int, condition: str = "clean"
) -> tuple[bytes, dict[str, Any]]:
    """Render one side under one condition in memory: ``(jpeg_bytes, record)``.

    ``record`` has ``id, document_type, side, seed, index, generator, truth, printed, layout,
    degradation``; ``layout`` boxes are in clean-image pixels and ``degradation["corners"]`` places
    the clean image's corners in this image.
    """
    document_type, side = DocumentType(document_type), Side(side)
    if side not in SIDES[document_type]:
        raise ValueError(f"{document_type} has no {side} side")
    sid = specimen_id(document_type, seed, index)
    side_truth = _sides(document_type, seed, index)[side]
    image, layout = _clean(document_type, side, side_truth, sid)
    result = degrade(image, condition, random.Random(f"{sid}|{side}|{condition}"))
    record = {
        "id": sid, "document_type": str(document_type), "side": str(side), "seed": seed, "index": index,
        "generator": GENERATOR_VERSION, "truth": side_truth.truth, "printed": side_truth.printed,
        "layout": layout, "degradation": result.params,
    }  # fmt: skip
    return _jpeg(result.image, result.quality), record


def _write_one(out_dir: Path, document_type: DocumentType, seed: int, index: int, conditions) -> Specimen:
    sid = specimen_id(document_type, seed, index)
    record: dict[str, Any] = {
        "id": sid, "document_type": str(document_type), "seed": seed, "index": index,
        "generator": GENERATOR_VERSION, "sides": {},
    }  # fmt: skip
    specimen = Specimen(sid, document_type, record)
    for side, side_truth in _sides(document_type, seed, index).items():
        image, layout = _clean(document_type, side, side_truth, sid)
        entry: dict[str, Any] = {"truth": side_truth.truth, "printed": side_truth.printed, "layout": layout}
        entry |= {"files": {}, "degradation": {}}
        for condition in conditions:
            result = degrade(image, condition, random.Random(f"{sid}|{side}|{condition}"))
            path = out_dir / f"{sid}_{side}_{condition}.jpg"
            path.write_bytes(_jpeg(result.image, result.quality))
            entry["files"][condition] = path.name
            entry["degradation"][condition] = result.params
            specimen.files.setdefault(str(side), {})[condition] = path
        record["sides"][str(side)] = entry
    specimen.json_path = out_dir / f"{sid}.json"
    specimen.json_path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return specimen


def generate(
    out_dir: Path | str,
    *,
    document_type: DocumentType | str | None = None,
    count: int = 1,
    seed: int = 2026,
    conditions: tuple[str, ...] | list[str] = ("clean",),
) -> list[Specimen]:
    """Write ``count`` specimens of ``document_type`` (of every type if None) under ``out_dir``.

    Files are ``<id>_<side>_<condition>.jpg`` plus ``<id>.json`` (see ``README.md`` beside this
    module for the record's shape).
    """
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"unknown conditions {sorted(unknown)}; choose from {', '.join(CONDITIONS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    types = [DocumentType(document_type)] if document_type else list(DocumentType)
    return [_write_one(out, t, seed, i, tuple(conditions)) for t in types for i in range(count)]
