"""Instructions one OCR job costs this process, counted by valgrind's callgrind: the same figure on every run
of the same code (to about 0.2% here), whatever else the machine is doing, so a change to the job's CPU cost
can be judged in one run each instead of many alternating timed runs on a noisy machine.

    .venv/bin/python bench/pipeline_job_instructions.py [--documents 20]

Runs the jobs as ``pipeline_job_cost.py`` does (in this process, one after another, against the emulator at
zero latency, on PostgreSQL), counting only while they run: after five warm-up jobs, until the last one
ends. The emulator's server threads are counted too (about 6% of the figure); PostgreSQL's own process is
not (``pipeline_job_cost.py`` reports its CPU). Under valgrind the jobs run about 50 times slower. Needs
valgrind, gcc and valgrind's headers (Debian: ``valgrind``, ``gcc``), which it says if missing.
"""

from __future__ import annotations

import argparse
import ctypes
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HELPER = """#include <valgrind/callgrind.h>
void counting_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void counting_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("jobs"); }
"""
WARM = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20, help="jobs counted (after the warm-up jobs)")
    parser.add_argument("--under-valgrind", help=argparse.SUPPRESS)  # the helper library, set by the outer run
    args = parser.parse_args()
    if args.under_valgrind:
        _count(args.documents, Path(args.under_valgrind))
        return 0
    missing = [tool for tool in ("valgrind", "gcc") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"needs {' and '.join(missing)} (Debian: apt-get install {' '.join(missing)})")
    with tempfile.TemporaryDirectory(prefix="kyc-bench-instructions-") as work:
        helper = Path(work) / "libcounting.so"
        source = Path(work) / "counting.c"
        source.write_text(HELPER)
        built = subprocess.run(
            ["gcc", "-shared", "-fPIC", "-O2", "-o", str(helper), str(source)], capture_output=True, text=True
        )
        if built.returncode:
            raise SystemExit(f"could not build the counting helper (valgrind's headers?):\n{built.stderr}")
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={work}/callgrind.%p",
                sys.executable,
                __file__,
                "--documents",
                str(args.documents),
                "--under-valgrind",
                str(helper),
            ],
            capture_output=True,
            text=True,
        )
        counted = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode or counted is None:
            raise SystemExit(f"the counted run failed:\n{run.stdout}\n{run.stderr[-3000:]}")
    print(run.stdout, end="")
    per_job = int(counted.group(1)) / args.documents
    print(f"instructions per job: {per_job / 1e6:.2f} M ({args.documents} jobs after {WARM} warm-up jobs)")
    return 0


def _count(documents: int, helper: Path) -> None:
    from bench import pipeline_harness as h

    counting = ctypes.CDLL(str(helper))
    per_type = -(-(documents + WARM) // len(h.ACTIONS))
    with h.Run("instructions", latency_ms=0, quotas={}):
        ids = h.create_documents(dict.fromkeys(h.ACTIONS, per_type), shuffle_seed=3)
        from kyc.services.ocr import ocr_document_run

        for document_id in ids[:WARM]:  # provider, connections, prepared statements, caches
            ocr_document_run(document_id=document_id)
        counting.counting_start()
        statuses = [ocr_document_run(document_id=document_id) for document_id in ids[WARM : WARM + documents]]
        counting.counting_stop()
    if set(statuses) != {"extracted"}:
        raise SystemExit(f"jobs ended {sorted(set(statuses))}: the figure would not be one job's cost")
    print(f"{len(statuses)} jobs counted, vendor latency 0 ms (the emulator runs in this process)")


if __name__ == "__main__":
    sys.exit(main())
