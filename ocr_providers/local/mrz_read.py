"""Find the machine-code lines on a page, repair them and parse them with the strict parsers.

Formats (``ocr_providers.machine_codes``): the passport's TD3 (2 x 44), the Exit-Entry Permit's
``CS`` line (1 x 30) and the Mainland Travel Permit's ``CR`` block (3 x 30). A line that still fails
a check digit after repair is re-recognised from fresh crops (the ladder in ``crops``), stopping at
the first read whose check digits all pass.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ocr_providers.local.crops import RUNGS
from ocr_providers.local.geometry import Frame, PlacedBox, group_lines
from ocr_providers.local.mrz_repair import MAX_TOGGLES, candidates, mrz_score, normalise
from ocr_providers.machine_codes import (
    MachineCode,
    MachineCodeError,
    gbk_letters_decode,
    parse_eep,
    parse_mtp,
    parse_td3,
)

__all__ = ["FORMATS", "MrzFormat", "MrzLine", "MrzRead", "find_lines", "read_format"]

Reread = Callable[[Sequence[tuple[float, float]], int], str]


@dataclass(frozen=True)
class MrzFormat:
    """One machine-code layout: per-line position classes, which lines carry check digits, a parser."""

    kind: str
    classes: tuple[str, ...]
    checked: tuple[bool, ...]
    parse: Callable[[Sequence[str]], MachineCode]
    prefix: str  # how the first line starts, after repair
    # A semantic check that breaks ties the check digits cannot (their blind spots, pitfall 2).
    plausible: Callable[[MachineCode], bool] = lambda code: True

    @property
    def width(self) -> int:
        return len(self.classes[0])


_PERMIT_TAIL = "9<9999999<9999999<9"


def _sane(code: MachineCode) -> bool:
    """A line of fillers passes every check digit (all zero): a real code has a number and dates."""
    number = code.fields.get("document_number") or ""
    return (
        bool(re.search(r"\d", number)) and bool(code.fields.get("birth_date")) and bool(code.fields.get("expiry_date"))
    )


def _gbk_optional(code: MachineCode) -> bool:
    """Chinese passports carry the holder's name as GBK letters in the optional field. ``O``->``0``
    twice at weights 7 and 3 changes the sum by 240, invisible to every check digit, so a reading
    that decodes as GBK is preferred over one that does not."""
    opt = code.fields.get("optional") or ""
    return _sane(code) and code.fields.get("document_code") == "P" and (not opt or gbk_letters_decode(opt) is not None)


_LETTERS = str.maketrans("0182", "OIBZ")


def _letterise_optional(line: str) -> str:
    """TD3 line 2 with the optional field's digits read as letters (the GBK alphabet is A-P)."""
    return line[:28] + line[28:42].translate(_LETTERS) + line[42:]


FORMATS: dict[str, MrzFormat] = {
    "td3": MrzFormat(
        "td3",
        ("A*AAA" + "N" * 39, "AX9999999" + "9AAA9999999*9999999" + "X" * 14 + "*9"),
        (False, True),
        parse_td3,
        "P",
        _gbk_optional,
    ),
    "eep": MrzFormat("eep", ("AAAX9999999" + _PERMIT_TAIL,), (True,), parse_eep, "C", _sane),
    "mtp": MrzFormat(
        "mtp",
        ("AAA99999999" + _PERMIT_TAIL, "A" * 16 + "<*<99" + "<" * 8 + "9", "N" * 30),
        (True, True, False),
        parse_mtp,
        "CR",
        _sane,
    ),
}


@dataclass(frozen=True)
class MrzLine:
    """One machine-code-like text line: its boxes left to right and their joined text."""

    boxes: tuple[PlacedBox, ...]

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.boxes)

    @property
    def score(self) -> float:
        return min(b.score for b in self.boxes)

    @property
    def quad(self) -> tuple[tuple[float, float], ...]:
        first, last = self.boxes[0].box.quad, self.boxes[-1].box.quad
        return (first[0], last[1], last[2], first[3])


@dataclass(frozen=True)
class MrzRead:
    """The best parse of one block: the code, toggles the repair needed, ladder rungs used, and
    whether another candidate with as few toggles validated differently (then nothing is trusted)."""

    code: MachineCode
    toggles: int
    rungs: int
    ambiguous: bool
    lines: tuple[MrzLine, ...]
    score: float

    @property
    def valid(self) -> bool:
        return self.code.valid and not self.ambiguous


def _looks_like_mrz(text: str) -> bool:
    norm = normalise(text)
    return len(norm) >= 6 and mrz_score(text) >= 0.85 and ("<" in norm or bool(re.match(r"^(P|C[SDR])", norm)))


def find_lines(frame: Frame) -> list[MrzLine]:
    """Machine-code-like lines, top to bottom (a line the detector split is joined back)."""
    picked = frame.find(lambda b: _looks_like_mrz(b.text) or (mrz_score(b.text) >= 0.95 and len(b.text) >= 8))
    lines = [MrzLine(tuple(line)) for line in group_lines(picked, tolerance=0.6)]
    return [line for line in lines if len(normalise(line.text)) >= 20]


def _solve(raws: Sequence[str], fmt: MrzFormat) -> tuple[MachineCode, int, bool] | None:
    """Best parse over every repaired candidate: most checks passing, then fewest toggles."""
    options = [list(candidates(raw, cls)) for raw, cls in zip(raws, fmt.classes, strict=True)]
    if fmt.kind == "td3":
        options[1] += [(_letterise_optional(line), t) for line, t in options[1]]
    best: tuple[int, bool, int] | None = None
    found: list[tuple[MachineCode, int]] = []
    for combo in itertools.product(*options):
        toggles = sum(t for _, t in combo)
        if toggles > MAX_TOGGLES:
            continue
        try:
            code = fmt.parse([line for line, _ in combo])
        except MachineCodeError:
            continue
        key = (-sum(code.checks.values()), not fmt.plausible(code), toggles)
        if best is None or key < best:
            best, found = key, [(code, toggles)]
        elif key == best:
            found.append((code, toggles))
    if not found:
        return None
    code, toggles = found[0]
    # An implausible best reading (fillers only, a non-GBK optional field) is never trusted.
    ambiguous = len({tuple(sorted(c.fields.items(), key=str)) for c, _ in found}) > 1 or not fmt.plausible(code)
    return code, toggles, ambiguous


def _blocks(lines: Sequence[MrzLine], fmt: MrzFormat) -> list[tuple[MrzLine, ...]]:
    """Consecutive runs of lines that could be this format's block, most plausible first."""
    n = len(fmt.classes)
    out = []
    for i in range(len(lines) - n + 1):
        block = tuple(lines[i : i + n])
        first = normalise(block[0].text)
        widths_ok = all(
            len(normalise(line.text)) >= (fmt.width * 3 // 4 if chk else 8)
            and len(normalise(line.text)) <= fmt.width + fmt.width // 4
            for line, chk in zip(block, fmt.checked, strict=True)
        )
        if widths_ok and (first.startswith(fmt.prefix) or fmt.kind == "td3"):
            out.append(block)
    return sorted(out, key=lambda b: not normalise(b[0].text).startswith(fmt.prefix))


def read_format(lines: Sequence[MrzLine], fmt: MrzFormat, reread: Reread | None = None) -> MrzRead | None:
    """Parse the first block of ``fmt`` among ``lines``; climb the re-read ladder if checks fail."""
    best: MrzRead | None = None
    for block in _blocks(lines, fmt):
        raws = [line.text for line in block]
        score = min(line.score for line in block)
        solved = _solve(raws, fmt)
        rung = 0
        while reread is not None and (solved is None or not solved[0].valid) and rung < len(RUNGS):
            raws = [
                reread(line.quad, rung) if chk else raw for line, raw, chk in zip(block, raws, fmt.checked, strict=True)
            ]
            rung += 1
            again = _solve(raws, fmt)
            if again is not None and (
                solved is None or sum(again[0].checks.values()) >= sum(solved[0].checks.values())
            ):
                solved = again
        if solved is None:
            continue
        read = MrzRead(solved[0], solved[1], rung, solved[2], block, score)
        if read.valid:
            return read
        if best is None or sum(read.code.checks.values()) > sum(best.code.checks.values()):
            best = read
    return best
