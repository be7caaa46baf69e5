"""Turn what the recogniser read on a machine-code line into candidate lines for the strict parsers.

The recogniser's usual confusions (OFFLINE-OCR.md pitfall 2): ``<`` read as ``K``, ``«``, ``(``, ``く``
or a space; full-width digits; ``0/O``, ``1/I``, ``5/S``, ``8/B``, ``2/Z`` swapped; filler runs a
character too long or short. Repair happens in three steps, each conservative:

1. ``normalise``: NFKC, filler look-alikes to ``<``, uppercase, drop anything outside ``[A-Z0-9<]``.
2. ``fit_width``: stretch or shrink ``<`` runs so the line has the format's width.
3. ``apply_classes`` + ``toggles``: per-position character classes force digits into digit-only slots
   and letters into letter-only slots (that is a reading of the layout, not a guess); in the few
   slots that may hold either, candidates toggle look-alikes, at most ``MAX_TOGGLES`` at a time,
   because the ICAO weights make some double errors invisible to the check digits.

The caller validates each candidate with the strict parsers of ``ocr_providers.machine_codes`` and
records how many toggles the accepted one needed (a repaired value is worth less until the visual
zone confirms it).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator

__all__ = [
    "ALNUM",
    "ALPHA",
    "ANY",
    "DIGIT",
    "FILL",
    "MAX_TOGGLES",
    "NAME",
    "Candidate",
    "apply_classes",
    "candidates",
    "fit_width",
    "mrz_score",
    "normalise",
]

# Position classes.
DIGIT = "9"  # digits only (dates, check digits, the digit part of numbers)
ALPHA = "A"  # letters only (nationality, name letters)
ALNUM = "X"  # either: the only slots where look-alike toggling is allowed
FILL = "<"  # always a filler
ANY = "*"  # anything, untouched (sex, an optional check digit)
NAME = "N"  # name zones: letters or filler; digits become letters, a K inside filler runs becomes <

MAX_TOGGLES = 2

_FILLER_LOOKALIKES = str.maketrans(
    {"く": "<", "‹": "<", "〈": "<", "＜": "<", "(": "<", "«": "<<", "《": "<<", "≤": "<", "‘": "<"}
)
_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "U": "0",
        "I": "1",
        "L": "1",
        "T": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "G": "6",
        "A": "4",
    }
)
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A"})
# Toggle pairs allowed in ALNUM slots (letter <-> digit look-alikes).
_TOGGLE = {"O": "0", "0": "O", "I": "1", "1": "I", "S": "5", "5": "S", "B": "8", "8": "B", "Z": "2", "2": "Z"}

Candidate = tuple[str, int]  # (line, number of toggles applied)


def normalise(text: str) -> str:
    """Uppercase ``[A-Z0-9<]`` only; filler look-alikes become ``<`` and spaces are dropped."""
    text = unicodedata.normalize("NFKC", text).translate(_FILLER_LOOKALIKES).upper()
    text = text.replace("×", "X")
    return re.sub(r"[^A-Z0-9<]", "", text)


def mrz_score(text: str) -> float:
    """Share of characters that belong to a machine-code alphabet (how machine-code-like a line is)."""
    stripped = re.sub(r"\s", "", unicodedata.normalize("NFKC", text))
    if not stripped:
        return 0.0
    good = sum(1 for c in stripped if (c.isascii() and (c.isupper() or c.isdigit())) or c in "<«く‹")
    return good / len(stripped)


def _runs(line: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"<+", line)]


def _resize_run(line: str, run: tuple[int, int], delta: int) -> str | None:
    start, end = run
    if end - start + delta < 1:
        return None
    return line[:start] + "<" * (end - start + delta) + line[end:]


def fit_width(line: str, width: int, limit: int = 3) -> list[str]:
    """Candidates of exactly ``width`` characters made by growing or shrinking filler runs.

    The recogniser drops or adds ``<`` inside long runs; changing other characters' positions would
    make every later slot wrong, so only filler runs are adjusted (one run, or two when the
    difference is more than one character), by at most ``limit`` characters in all.
    """
    diff = width - len(line)
    if diff == 0:
        return [line]
    out: list[str] = []
    if abs(diff) <= limit:
        runs = _runs(line)
        step = 1 if diff > 0 else -1
        for i, run in enumerate(runs):
            out.append(_resize_run(line, run, diff) or "")
            for part in range(step, diff, step):
                first = _resize_run(line, run, part)
                # Runs to the right of ``run`` moved by ``part``; shift them before resizing.
                for other in runs[i + 1 :]:
                    if first is not None:
                        moved = (other[0] + part, other[1] + part)
                        out.append(_resize_run(first, moved, diff - part) or "")
    # The trailing filler run (name lines, padding) can absorb any difference.
    if diff > 0:
        out.append(line + "<" * diff)
    elif line[width:].strip("<") == "":
        out.append(line[:width])
    return [c for c in dict.fromkeys(out) if len(c) == width]


def apply_classes(line: str, classes: str) -> str:
    """Force digits into DIGIT slots, letters into ALPHA slots and ``<`` into FILL slots."""
    chars = list(line)
    for i, cls in enumerate(classes[: len(chars)]):
        c = chars[i]
        if cls == DIGIT:
            chars[i] = c.translate(_TO_DIGIT)
        elif cls == ALPHA:
            chars[i] = c.translate(_TO_ALPHA)
        elif cls == FILL:
            chars[i] = "<"
        elif cls == NAME:
            chars[i] = c.translate(_TO_ALPHA)
    return _fillers_in_names("".join(chars), classes)


def _fillers_in_names(line: str, classes: str) -> str:
    """A ``K`` (or ``E``/``S``) alone between filler runs is a misread ``<``: names never have
    one-letter words flanked by a double filler on either side."""
    chars = list(line)
    for i in range(1, len(chars) - 1):
        if i < len(classes) and classes[i] == NAME and chars[i] in "KES" and chars[i + 1] == "<":
            left, right = line[max(0, i - 2) : i], line[i + 1 : i + 3]
            if left.endswith("<") and (left == "<<" or right == "<<"):
                chars[i] = "<"
    return "".join(chars)


def toggles(line: str, classes: str, max_toggles: int = MAX_TOGGLES) -> Iterator[Candidate]:
    """The line itself, then every variant with 1..max_toggles look-alikes swapped in ALNUM slots."""
    yield line, 0
    slots = [i for i, cls in enumerate(classes[: len(line)]) if cls == ALNUM and line[i] in _TOGGLE]
    for n in range(1, max_toggles + 1):
        for combo in itertools.combinations(slots, n):
            chars = list(line)
            for i in combo:
                chars[i] = _TOGGLE[chars[i]]
            yield "".join(chars), n


def _restore_fixed_fillers(line: str, classes: str) -> str:
    """Re-insert a ``<`` the recogniser dropped at a position where the layout has a lone filler."""
    for pos, cls in enumerate(classes):
        if len(line) >= len(classes):
            break
        if cls == FILL and pos < len(line) and line[pos] != "<":
            line = line[:pos] + "<" + line[pos:]
    return line


def candidates(text: str, classes: str, max_toggles: int = MAX_TOGGLES) -> Iterator[Candidate]:
    """Every repaired candidate for one line, fewest toggles first within each width fit.

    A space may be a dropped character or a ``<`` read as blank, so both readings are tried.
    """
    seen: set[str] = set()
    raws = [normalise(text), normalise(re.sub(r"(?<=\S) (?=\S)", "<", text.strip()))]
    for raw in dict.fromkeys(raws):
        for fitted in [
            *fit_width(raw, len(classes)),
            *fit_width(_restore_fixed_fillers(raw, classes), len(classes)),
        ]:
            if fitted in seen:
                continue
            seen.add(fitted)
            yield from toggles(apply_classes(fitted, classes), classes, max_toggles)
