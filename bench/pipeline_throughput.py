"""Throughput inside the vendor's quota: two django-q2 clusters sharing one PostgreSQL, the emulator at
300 ms latency with quotas of 10/s (PermitOCR), 5/s (HKIDCardOCR) and 20/s (MainlandPermitOCR).

    .venv/bin/python bench/pipeline_throughput.py [--documents 2000] [--workers 10] [--share 0.96]
        [--horizon S] [--interleaved] [--quota-scale F]

Prints, per action: calls, sustained rate and its share of the quota, the median 10-second window's
share (the steady rate), the most calls in any one-second window, windows over quota, RequestLimitExceeded
answers; then our own overhead per job (task time not spent waiting for the vendor or the limiter) as a
share of the vendor latency, and where it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pipeline_harness as h

QUOTAS = {"PermitOCR": 10.0, "HKIDCardOCR": 5.0, "MainlandPermitOCR": 20.0}
LATENCY_MS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument(
        "--workers",
        type=int,
        default=10,
        help="workers per cluster (two clusters). On two cores, in alternating runs, 10 had less overhead per job "
        "than 12 (29-30 ms against 32-33 in three pairs) and 12 less than 16; 6 are too few for these quotas",
    )
    parser.add_argument("--share", type=float, default=0.96, help="KYC_OCR_QUOTA_SHARE")
    parser.add_argument("--horizon", type=float, help="KYC_OCR_QUOTA_HORIZON (default: the setting's own)")
    parser.add_argument(
        "--quota-scale",
        type=float,
        default=1.0,
        help="multiply every quota (below 1: the same run with less CPU per second of it, to tell a CPU-bound "
        "machine from a limiter that leaves slots unused)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    parser.add_argument(
        "--interleaved",
        action="store_true",
        help="queue the types in equal turns until the smaller ones run out (default: a shuffled mix)",
    )
    args = parser.parse_args()
    args.quotas = {action: quota * args.quota_scale for action, quota in QUOTAS.items()}
    counts = {t: round(args.documents * QUOTAS[a] / sum(QUOTAS.values())) for t, a in h.ACTIONS.items()}
    with h.Run(
        "throughput",
        latency_ms=LATENCY_MS,
        quotas=args.quotas,
        keep=args.keep,
        KYC_OCR_QUOTA_SHARE=str(args.share),
        KYC_OCR_MAX_QUOTA_WAIT="30",
        **({"KYC_OCR_QUOTA_HORIZON": str(args.horizon)} if args.horizon is not None else {}),
    ) as run:
        if not run.realtime:
            print("the emulator runs at ordinary priority (real-time needs root): its stamps may lag under load")
        print(f"creating {sum(counts.values())} documents {counts} ...", flush=True)
        ids = h.create_documents(counts, shuffle_seed=None if args.interleaved else 7)
        run.start_clusters(2, args.workers, task_log=True)
        started, cpu_before = time.monotonic(), h.machine_cpu()
        final = h.wait_final(ids, timeout=900)
        elapsed, cpu_after = time.monotonic() - started, h.machine_cpu()
        h.stop_clusters(run.clusters, grace=30)  # their monitors have then recorded every task (the figures)
        report(run.log, run.emulator, final, elapsed, args, run.var)
        if cpu_before and cpu_after:
            busy, stolen = (after - before for before, after in zip(cpu_before, cpu_after, strict=True))
            cores = os.cpu_count() or 1
            print(
                f"machine during the run: {busy / elapsed / cores:.0%} of {cores} cores busy; stolen by the "
                f"hypervisor {stolen:.1f} s ({stolen / elapsed / cores:.1%} of the cores' time: a host that "
                "takes the CPU away slows every job)"
            )
        arrivals = run.var / "arrivals.json"
        arrivals.write_text(json.dumps(run.log.times))
        print(f"arrival times per action (emulator clock): {arrivals}")
    return 0


def report(log, emulator, final, elapsed, args, task_log) -> None:
    print(f"\n{sum(final.values())} documents in {elapsed:.1f} s, final statuses {final}")
    print(f"2 clusters x {args.workers} workers, latency {LATENCY_MS} ms, limiter share {args.share}")
    print(
        f"{'action':<20}{'calls':>7}{'quota':>7}{'sustained/s':>13}{'of quota':>10}{'median 10 s':>13}"
        f"{'max in 1 s':>12}{'windows over':>14}{'RequestLimitExceeded':>22}"
    )
    for action, quota in args.quotas.items():
        rate = log.sustained_rate(action)
        print(
            f"{action:<20}{len(log.times[action]):>7}{quota:>7g}{rate:>13.2f}{rate / quota:>10.1%}"
            f"{log.median_window_rate(action) / quota:>13.1%}"
            f"{log.max_in_window(action):>12}{log.windows_over(action, quota):>14}"
            f"{emulator.count(action=action, outcome='RequestLimitExceeded'):>22}"
        )
    print("sustained: calls over the time from the first call to the last (start-up and tail included);")
    print("median 10 s: the median of the run's whole 10-second windows (the steady rate)")
    timing = h.send_timing(task_log, log, args.quotas)
    if timing:
        print(
            f"{'send timing':<20}{'sends':>7}{'missed':>8}{'late p50/p99/max ms':>24}{'to stamp p50/p99/max ms':>28}"
            f"{'windows over by send':>22}"
        )
        for action, t in timing.items():
            print(
                f"{action:<20}{t['sends']:>7.0f}{t['missed']:>8.0f}"
                f"{t['late_p50_ms']:>10.1f}{t['late_p99_ms']:>7.1f}{t['late_max_ms']:>7.1f}"
                f"{t['lag_p50_ms']:>14.1f}{t['lag_p99_ms']:>7.1f}{t['lag_max_ms']:>7.1f}"
                f"{t['windows_over_by_send']:>22.0f}"
            )
        print(
            "missed: slots let go, the worker too late to leave in them; late: request headers leaving after "
            "the slot's start; to stamp: from leaving to the emulator's stamp"
        )
    overhead = h.overhead_per_job(LATENCY_MS, task_log)
    if overhead:
        print(
            f"overhead per job over {overhead['jobs']} jobs: median {overhead['median_ms']:.1f} ms "
            f"({overhead['median_share']:.1%} of vendor latency), mean {overhead['mean_ms']:.1f} ms "
            f"({overhead['mean_share']:.1%}), p95 {overhead['p95_ms']:.1f} ms"
        )
        print(
            f"  not counted above: each worker's first job ({overhead['first_jobs']}, cold start while every "
            f"worker starts at once), median {overhead['first_median_ms']:.1f} ms; over all jobs: median "
            f"{overhead['all_median_ms']:.1f} ms, mean {overhead['all_mean_ms']:.1f} ms "
            f"({overhead['all_mean_ms'] / LATENCY_MS:.1%}), p95 {overhead['all_p95_ms']:.1f} ms"
        )
        print(
            f"  of which (medians): claim and call {overhead['claim_and_call_median_ms']:.1f} ms (the attempt's row to "
            f"the finish's lock: commit, image, signing, parsing), finish {overhead['finish_median_ms']:.1f} ms, "
            "the rest before the attempt's row (plan, slot, lock)"
        )


if __name__ == "__main__":
    sys.exit(main())
