"""Fault mix: the emulator fails 20% of calls in each of its ways (HTTP 5xx, malformed JSON, truncated
bodies, vendor internal errors); every document must end extracted, unreadable or failed with the reason.

    .venv/bin/python bench/pipeline_faults.py [--documents 500] [--fail-rate 0.2]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pipeline_harness as h


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--fail-rate", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    counts = dict.fromkeys(h.ACTIONS, args.documents // len(h.ACTIONS))
    with h.Run(
        "faults",
        latency_ms=100,
        quotas={},
        fail_rate=args.fail_rate,
        keep=args.keep,
        KYC_OCR_BACKOFF_BASE="0.5",
        KYC_OCR_MAX_ATTEMPTS="4",
    ) as run:
        from kyc.models import Document, OcrAttempt

        ids = h.create_documents(counts)
        run.start_clusters(2, args.workers)
        started = time.monotonic()
        final = h.wait_final(ids, timeout=900)
        elapsed = time.monotonic() - started
        report = h.integrity(ids)
        outcomes = Counter(OcrAttempt.objects.values_list("outcome", "error_code"))
        vendor = Counter(c.outcome for c in run.emulator.state.calls)
        reasons = Counter(
            Document.objects.filter(pk__in=ids).exclude(status="extracted").values_list("status", "status_reason")
        )
        print(f"\n{len(ids)} documents in {elapsed:.0f} s with fail rate {args.fail_rate}; final statuses {final}")
        print("emulator answers:", dict(vendor.most_common()))
        print("our attempt outcomes:", {f"{o}/{c or '-'}": n for (o, c), n in outcomes.most_common()})
        for (status, reason), n in reasons.most_common():
            print(f"  {n} x {status}: {reason}")
        without_reason = sum(n for (status, reason), n in reasons.items() if not reason)
        ok = (
            report["lost_or_stuck"] == 0
            and report["applied_twice"] == 0
            and without_reason == 0
            and not report["audit_broken"]
        )
        print(
            f"lost or stuck: {report['lost_or_stuck']}; applied twice: {report['applied_twice']}; "
            f"non-extracted without a reason: {without_reason}; audit chains: {report['audit_broken'] or 'whole'}"
        )
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
