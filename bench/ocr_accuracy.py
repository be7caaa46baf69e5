"""Accuracy, calibration, speed and memory of the offline ``local`` OCR provider.

Generates a fresh specimen set (the seed is printed; pass ``--seed`` to repeat a run), runs the
provider on every type, side and condition, and prints per cell: field exact-match rate,
whole-document all-fields-right rate, machine-code validity rate, calibration (accuracy of fields at
confidence >= 0.9), median and p95 seconds per image, then peak RSS.

    python bench/ocr_accuracy.py --count 20                       # the full run (slow: ~1 h on 2 cores)
    python bench/ocr_accuracy.py --count 3 --conditions clean phone upside_down --seed 42

Targets (issue "Offline OCR engine"): field exact-match >= 99.5% on every standard condition and
>= 97% on every hard one; machine codes valid >= 99%; fields at confidence >= 0.9 right >= 99.8%;
median <= 0.5 s per card side and <= 0.8 s per passport page; peak RSS <= 800 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kyc.specimens import HARD_CONDITIONS, STANDARD_CONDITIONS, render_specimen
from ocr_providers.base import OcrRequest, ProviderConfig
from ocr_providers.documents import FIELDS, SIDES, DocumentType
from ocr_providers.exceptions import OcrRejected
from ocr_providers.local.provider import LocalOcrProvider

MRZ_SIDES = {("cn_passport", "front"), ("exit_entry_permit", "front"), ("mainland_travel_permit", "front")}
BUCKETS = ((0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01))


@dataclass
class Cell:
    """Counters for one (type, side, condition)."""

    fields: int = 0
    right: int = 0
    docs: int = 0
    docs_right: int = 0
    mrz: int = 0
    mrz_valid: int = 0
    confident: int = 0
    confident_right: int = 0
    seconds: list[float] = field(default_factory=list)
    rejected: int = 0


def _score(result: Any, truth: dict[str, Any], names: tuple[str, ...]) -> list[tuple[str, bool, float | None, Any]]:
    out = []
    for name in names:
        got = result.fields.get(name) if result else None
        value = got.value if got else None
        out.append((name, got is not None and value == truth.get(name), got.confidence if got else None, value))
    return out


def _run_one(provider: LocalOcrProvider, doc: str, side: str, seed: int, index: int, condition: str) -> dict[str, Any]:
    jpeg, record = render_specimen(doc, side, seed, index, condition)
    started = time.perf_counter()
    try:
        result = provider.recognize(OcrRequest(image=jpeg))
        rejected = False
    except OcrRejected:
        result, rejected = None, True
    seconds = time.perf_counter() - started
    names = FIELDS[(DocumentType(doc), record["side"])]
    scored = _score(result, record["truth"], names)
    machine = result.raw.get("machine_code") if result else None
    return {
        "id": record["id"], "doc": doc, "side": side, "condition": condition, "seconds": seconds,
        "rejected": rejected, "scored": scored, "truth": record["truth"],
        "mrz_valid": bool(machine and machine.get("valid")),
        "detected": (str(result.document_type), str(result.side)) if result else None,
    }  # fmt: skip


def _add(cell: Cell, row: dict[str, Any], buckets: dict[tuple[float, float], list[int]]) -> None:
    cell.seconds.append(row["seconds"])
    cell.rejected += row["rejected"]
    cell.docs += 1
    oks = [ok for _, ok, _, _ in row["scored"]]
    cell.fields += len(oks)
    cell.right += sum(oks)
    cell.docs_right += all(oks)
    if (row["doc"], row["side"]) in MRZ_SIDES:
        cell.mrz += 1
        cell.mrz_valid += row["mrz_valid"]
    for _, ok, conf, _ in row["scored"]:
        if conf is None:
            continue
        if conf >= 0.9:
            cell.confident += 1
            cell.confident_right += ok
        for lo, hi in BUCKETS:
            if lo <= conf < hi:
                buckets[(lo, hi)][0] += 1
                buckets[(lo, hi)][1] += ok


def _write_errors(out: Any, row: dict[str, Any]) -> None:
    for name, ok, conf, value in row["scored"]:
        if not ok:
            item = {
                "id": row["id"],
                "side": row["side"],
                "condition": row["condition"],
                "field": name,
                "got": value,
                "truth": row["truth"].get(name),
                "confidence": conf,
                "rejected": row["rejected"],
            }
            out.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")  # fmt: skip
    out.flush()


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:6.1f}" if d else "     -"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _print_header() -> None:
    print(f"{'type':24} {'side':5} {'condition':12} {'n':>3} {'field%':>7} {'doc%':>7} {'mrz%':>7} "
          f"{'conf>=0.9 right':>17} {'med s':>6} {'p95 s':>6} {'rej':>4}", flush=True)  # fmt: skip


def _print_cell(doc: str, side: str, condition: str, c: Cell) -> None:
    """One table row, printed as soon as its cell is done (a long run shows progress)."""
    conf = f"{c.confident_right}/{c.confident} ({_pct(c.confident_right, c.confident).strip()}%)"
    rates = f"{_pct(c.right, c.fields)} {_pct(c.docs_right, c.docs)} {_pct(c.mrz_valid, c.mrz)}"
    print(
        f"{doc:24} {side:5} {condition:12} {c.docs:3d} {rates} {conf:>17} "
        f"{statistics.median(c.seconds):6.2f} {_p95(c.seconds):6.2f} {c.rejected:4d}",
        flush=True,
    )


def _print_summary(cells: dict[tuple[str, str, str], Cell], buckets: dict[tuple[float, float], list[int]]) -> None:
    for title, conds in (("standard", STANDARD_CONDITIONS), ("hard", HARD_CONDITIONS)):
        group = [c for (_, _, cond), c in cells.items() if cond in conds]
        if not group:
            continue
        worst = min(group, key=lambda c: c.right / max(c.fields, 1))
        print(
            f"{title:9} field {_pct(sum(c.right for c in group), sum(c.fields for c in group))}%  "
            f"docs {_pct(sum(c.docs_right for c in group), sum(c.docs for c in group))}%  "
            f"mrz {_pct(sum(c.mrz_valid for c in group), sum(c.mrz for c in group))}%  "
            f"worst cell field {_pct(worst.right, worst.fields)}%"
        )
    print("calibration (confidence bucket: right / n)")
    for (lo, hi), (n, ok) in sorted(buckets.items()):
        print(f"  [{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}: {ok}/{n} ({_pct(ok, n).strip()}%)")
    sides = defaultdict(list)
    for (doc, _side, _), c in cells.items():
        sides["passport page" if doc == "cn_passport" else "card side"] += c.seconds
    for kind, values in sides.items():
        print(f"latency {kind}: median {statistics.median(values):.2f} s, p95 {_p95(values):.2f} s")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss_mb:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20, help="documents per type, side and condition")
    parser.add_argument("--seed", type=int, default=None, help="specimen seed (random and printed if omitted)")
    parser.add_argument("--conditions", nargs="+", default=list(STANDARD_CONDITIONS + HARD_CONDITIONS))
    parser.add_argument("--types", nargs="+", default=[t.value for t in DocumentType])
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (default: cores // workers)")
    parser.add_argument("--errors", type=Path, help="write every wrong or confident field here (JSON lines)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    print(f"seed {seed}; {args.count} per type x side x condition; conditions: {' '.join(args.conditions)}")
    _print_header()
    provider = LocalOcrProvider(ProviderConfig(name="local", options={"threads": args.threads} if args.threads else {}))
    provider.warm()
    cells: dict[tuple[str, str, str], Cell] = {}
    buckets: dict[tuple[float, float], list[int]] = {b: [0, 0] for b in BUCKETS}
    errors = args.errors.open("w", encoding="utf-8") if args.errors else None
    for doc in args.types:
        for side in SIDES[DocumentType(doc)]:
            for condition in args.conditions:
                cell = cells.setdefault((doc, side.value, condition), Cell())
                for index in range(args.count):
                    row = _run_one(provider, doc, side.value, seed, index, condition)
                    _add(cell, row, buckets)
                    if errors:
                        _write_errors(errors, row)
                _print_cell(doc, side.value, condition, cell)
    _print_summary(cells, buckets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
