"""What one OCR job costs us with nothing else running: wall time, CPU and database statements per job,
run in this process one after another against the emulator at zero latency (no quota, no cluster), and
the CPU its PostgreSQL server process used (read from /proc when the server runs on this host).

    .venv/bin/python bench/pipeline_job_cost.py [--documents 300] [--latency-ms 0]

The throughput benchmark's overhead figure is this cost plus the wait for a CPU when two cores serve
PostgreSQL, two clusters and the emulator at once, and what a worker pays for sleeping through each
vendor call: with ``--latency-ms 300`` every job sleeps through a 300 ms call, as in the throughput run,
and the figures are what the job costs besides that sleep (a process, and its PostgreSQL backend, that
slept through a call run slower after it: their caches are cold).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pipeline_harness as h


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the emulator's latency (taken out of wall)")
    args = parser.parse_args()
    per_type = max(1, args.documents // len(h.ACTIONS))
    with h.Run("jobcost", latency_ms=args.latency_ms, quotas={}):
        ids = h.create_documents(dict.fromkeys(h.ACTIONS, per_type), shuffle_seed=3)
        from django.db import connection

        from kyc.services.ocr import ocr_document_run

        ocr_document_run(document_id=ids[0])  # warm: provider, connections, prepared statements
        backend_cpu = _backend_cpu_reader(connection)
        backend_before = backend_cpu()
        walls, cpus, statements = [], [], []
        for document_id in ids[1:]:
            wall, cpu = time.monotonic(), time.process_time()
            # counted by an execute wrapper: Django's CaptureQueriesContext would force the debug cursor,
            # which renders every statement's SQL with its parameters (about a sixth of a job's CPU here)
            with connection.execute_wrapper(counter := _Counter()):
                status = ocr_document_run(document_id=document_id)
            walls.append(time.monotonic() - wall - args.latency_ms / 1000)
            cpus.append(time.process_time() - cpu)
            statements.append(counter.count)
            if status != "extracted":
                raise SystemExit(f"a job ended {status!r}: the figures would not be one job's cost")
        backend_after = backend_cpu()  # before the run drops its database and the connection's process
    print(
        f"{len(walls)} jobs, one at a time, vendor latency {args.latency_ms:g} ms (the emulator runs in this process)"
    )
    print(
        f"wall per job: median {statistics.median(walls) * 1000:.1f} ms, p95 "
        f"{sorted(walls)[int(0.95 * (len(walls) - 1))] * 1000:.1f} ms (our code, PostgreSQL round trips and commits; "
        "the vendor latency taken out)"
    )
    print(f"CPU per job in this process: median {statistics.median(cpus) * 1000:.1f} ms (ours and the emulator's)")
    print(
        f"database statements per job (BEGIN and COMMIT not counted): median "
        f"{statistics.median(statements):.0f}, most {max(statements)}"
    )
    if backend_before is not None and backend_after is not None:
        per_job = (backend_after - backend_before) / len(walls) * 1000
        print(f"PostgreSQL CPU per job (this connection's server process): mean {per_job:.1f} ms")
    return 0


class _Counter:
    """Counts the statements a job sends (an execute wrapper sees each execute and executemany)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _backend_cpu_reader(connection):
    """CPU seconds used so far by this connection's PostgreSQL server process, read from /proc: only
    when the server runs on this host (None otherwise)."""
    pid = connection.connection.info.backend_pid if connection.vendor == "postgresql" else None
    ticks = os.sysconf("SC_CLK_TCK")

    def read():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


if __name__ == "__main__":
    sys.exit(main())
