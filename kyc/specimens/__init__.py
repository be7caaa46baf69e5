"""Synthetic specimens of the four documents, with ground truth, for tests, demos and benchmarks.

No real person's document is ever used: identities are drawn from generic name lists, layouts are
generic, and every image carries a diagonal ``SPECIMEN 样本`` watermark. Pure Python + Pillow +
numpy: nothing here imports Django, so benchmarks can use it directly::

    from kyc.specimens import generate, render_specimen
    jpeg, record = render_specimen("cn_passport", "front", seed=2026, index=0, condition="rot3")
    specimens = generate("/tmp/specimens", count=5, seed=2026, conditions=STANDARD_CONDITIONS)
"""

from kyc.specimens.degrade import CONDITIONS, HARD_CONDITIONS, STANDARD_CONDITIONS
from kyc.specimens.fonts import FontMissing
from kyc.specimens.generator import GENERATOR_VERSION, Specimen, generate, render_specimen, specimen_id

__all__ = [
    "CONDITIONS",
    "GENERATOR_VERSION",
    "HARD_CONDITIONS",
    "STANDARD_CONDITIONS",
    "FontMissing",
    "Specimen",
    "generate",
    "render_specimen",
    "specimen_id",
]
