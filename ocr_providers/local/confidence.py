"""Field confidence from evidence: check digits, cross-zone agreement and the recogniser's score.

A field's precision is driven by the kind of evidence behind it far more than by the recogniser
score (OFFLINE-OCR.md section 7.3), so confidence is assigned per evidence kind and the score only
moves it within that kind. The contract with the reviewer UI: a value at or above ``CONFIDENT``
(0.9) is right at least 99.8% of the time on the generated specimens; ``bench/ocr_accuracy.py``
measures it. Anything that could be confidently wrong is kept below 0.9:

* a machine-code value the repair had to toggle, until the visual zone confirms it (0.8);
* a machine-code name, which has no check digit (never taken without the visual zone);
* any disagreement between the zones (at most 0.5, with a ``field_disagreement`` warning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocr_providers.base import OcrField

__all__ = ["CONFIDENT", "Fused", "Reading", "fuse", "viz_confidence"]

CONFIDENT = 0.9

# Visual-zone-only values: (minimum recogniser score, confidence), first match wins. Calibrated on
# generated specimens (bench/ocr_accuracy.py, seed 11, all 13 conditions): at 0.97 a glare-damaged
# passport issue date (2019 read as 2029) was confidently wrong, so only near-certain reads of a
# value that also matched its field's strict format cross 0.9.
VIZ_CALIBRATION: tuple[tuple[float, float], ...] = ((0.995, 0.91), (0.95, 0.85), (0.8, 0.7), (0.0, 0.5))
# Evidence kinds -> confidence.
MRZ_AND_VIZ = 0.995
MRZ_CHECKED = 0.99
VIZ_CHECKED = 0.99  # HKID mod-11, telecodes decoding to the printed name, machine code agreeing
MRZ_REPAIRED = 0.8
MRZ_BLOCK_INVALID = 0.6  # the field's own check passed, but another check of the block did not
CONFLICT = 0.45


@dataclass(frozen=True)
class Reading:
    """One zone's reading of a field, already normalised to the canonical form.

    ``checked`` means an independent check passed (a check digit, HKID mod-11, a telecode decode).
    ``repairs`` counts look-alike toggles the machine-code repair made. ``block_valid`` is false when
    some other check digit of the same machine code failed.
    """

    value: Any
    raw: str
    score: float
    checked: bool = False
    repairs: int = 0
    block_valid: bool = True
    label_free: bool = False


@dataclass(frozen=True)
class Fused:
    """A fused field plus what the result should say about it."""

    field: OcrField
    evidence: str
    conflict: bool = False


def viz_confidence(reading: Reading) -> float:
    """Confidence of a visual-zone-only value from its recogniser score (calibrated table)."""
    if reading.checked:
        return VIZ_CHECKED
    conf = next(c for threshold, c in VIZ_CALIBRATION if reading.score >= threshold)
    # A value found without its label (position only) is the weakest kind of visual evidence.
    return conf * 0.8 if reading.label_free else conf


def _mrz_alone(mrz: Reading) -> float:
    if not mrz.checked:
        return 0.0  # machine-code names are never taken without the visual zone
    if not mrz.block_valid:
        return MRZ_BLOCK_INVALID
    return MRZ_REPAIRED if mrz.repairs else MRZ_CHECKED


def fuse(viz: Reading | None, mrz: Reading | None, *, prefer_viz: bool = False) -> Fused | None:
    """Combine the zones' readings of one field; ``None`` when neither zone gave a usable value.

    ``prefer_viz`` picks the visual value's spelling when both agree (the machine code has no
    spaces or Chinese); agreement is decided by the caller's normalisation before this call.
    """
    if mrz is not None and viz is not None:
        if mrz.value == viz.value:
            value = viz if prefer_viz else mrz
            conf = MRZ_AND_VIZ if mrz.checked else VIZ_CHECKED
            source = "machine_code" if mrz.checked and not prefer_viz else "vendor"
            return Fused(OcrField(value.value, value.raw, conf, source), "mrz+viz")
        # Disagreement: trust a check-digit-valid, unrepaired machine code over the visual read,
        # but never confidently either way.
        if mrz.checked and not mrz.repairs and mrz.block_valid:
            return Fused(OcrField(mrz.value, mrz.raw, CONFLICT, "machine_code"), "conflict", True)
        return Fused(OcrField(viz.value, viz.raw, min(CONFLICT, viz_confidence(viz)), "vendor"), "conflict", True)
    if mrz is not None:
        conf = _mrz_alone(mrz)
        if conf == 0.0:
            return None
        return Fused(OcrField(mrz.value, mrz.raw, conf, "machine_code"), "mrz" if not mrz.repairs else "mrz-repaired")
    if viz is not None:
        evidence = "viz+check" if viz.checked else ("viz-label-free" if viz.label_free else "viz")
        return Fused(OcrField(viz.value, viz.raw, round(viz_confidence(viz), 4), "vendor"), evidence)
    return None
