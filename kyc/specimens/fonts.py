"""Font lookup by family name through fontconfig (``fc-match``), never by hard-coded path.

fc-match always answers with *some* font, so the answer's family is compared with the request: a
silent fallback to DejaVu would render Chinese as boxes and machine codes in the wrong face.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

from PIL import ImageFont

# Role -> (fontconfig pattern, family fc-match must return, Debian package that provides it).
FACES = {
    "sc": ("Noto Sans CJK SC", "Noto Sans CJK SC", "fonts-noto-cjk"),
    "sc_bold": ("Noto Sans CJK SC:bold", "Noto Sans CJK SC", "fonts-noto-cjk"),
    "tc": ("Noto Sans CJK HK", "Noto Sans CJK HK", "fonts-noto-cjk"),
    "tc_bold": ("Noto Sans CJK HK:bold", "Noto Sans CJK HK", "fonts-noto-cjk"),
    "latin": ("DejaVu Sans", "DejaVu Sans", "fonts-dejavu-core"),
    "latin_bold": ("DejaVu Sans:bold", "DejaVu Sans", "fonts-dejavu-core"),
    "ocrb": ("OCR B", "OCR B", "fonts-ocr-b"),
}


class FontMissing(RuntimeError):
    """A font the generator needs is not installed."""


@cache
def font_file(role: str) -> tuple[str, int]:
    """``(path, ttc index)`` of the face for ``role``; raises :class:`FontMissing` naming the package."""
    pattern, family, package = FACES[role]
    hint = f"install it with: apt-get install {package} fontconfig (see scripts/install-system-deps.sh)"
    exe = shutil.which("fc-match")
    if exe is None:
        raise FontMissing(f"fc-match not found; {hint}")
    out = subprocess.run(  # noqa: S603 - fixed executable, pattern from the table above
        [exe, "-f", "%{file}\t%{index}\t%{family}", pattern], capture_output=True, text=True, check=False
    ).stdout
    path, _, rest = out.partition("\t")
    index, _, families = rest.partition("\t")
    if family not in families.split(","):
        raise FontMissing(f"font {family!r} is missing (fc-match gave {families!r}); {hint}")
    return path, int(index or 0)


@cache
def font(role: str, size: int) -> ImageFont.FreeTypeFont:
    """A loaded Pillow font for ``role`` at ``size`` pixels (cached)."""
    path, index = font_file(role)
    return ImageFont.truetype(path, size=size, index=index)


def machine_code_size(chars: int, width: float) -> int:
    """OCR-B size in pixels whose ``chars`` characters span ``width`` pixels (OFFLINE-OCR.md 8.1)."""
    probe = font("ocrb", 100)
    return max(8, round(100 * width / probe.getlength("<" * chars)))
