"""Fault mix: the emulator fails 20% of calls, spread evenly over every way it has (``FAIL_WAYS``: an HTTP
5xx page, malformed JSON, a truncated body, an oversized body, no answer until the read timeout, a reset
connection, and the vendor's own internal error, rate-limit error, unreadable-photo error and too-large
error); every document must end extracted, unreadable or failed, with the reason its attempts give.

    .venv/bin/python bench/pipeline_faults.py [--documents 500] [--fail-rate 0.2]

A document's ending is checked against its attempts: extracted after a call that succeeded; after a
final error, unreadable or failed as the code says (``ocr_providers.UNREADABLE_CODES``) with the vendor's
code in the reason; failed with "no attempts left" once every attempt ended in a retryable error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pipeline_harness as h
from ocr_providers import UNREADABLE_CODES
from ocr_providers.emulator import FAIL_WAYS

MAX_ATTEMPTS = 4


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
        fail_ways=FAIL_WAYS,
        keep=args.keep,
        KYC_OCR_BACKOFF_BASE="0.5",
        KYC_OCR_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        KYC_OCR_READ_TIMEOUT="2",  # the "timeout" way answers never: a worker waits this long for it
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
        wrong = wrong_endings(ids)
        for document_id, problem in wrong[:5]:
            print(f"  wrong ending: document {document_id}: {problem}")
        ok = (
            report["lost_or_stuck"] == 0
            and report["applied_twice"] == 0
            and without_reason == 0
            and not wrong
            and not report["audit_broken"]
        )
        print(
            f"lost or stuck: {report['lost_or_stuck']}; applied twice: {report['applied_twice']}; "
            f"non-extracted without a reason: {without_reason}; wrong status or reason for its attempts: "
            f"{len(wrong)}; audit chains: {report['audit_broken'] or 'whole'}"
        )
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


def wrong_endings(ids: list) -> list[tuple[Any, str]]:
    """Each document whose final status or reason is not what its attempts say, with what is wrong."""
    from kyc.models import Document, OcrAttempt

    runs: dict[Any, list[OcrAttempt]] = {}
    for attempt in OcrAttempt.objects.filter(document_id__in=ids).order_by("document_id", "run", "number"):
        kept = runs.setdefault(attempt.document_id, [])
        if kept and kept[-1].run != attempt.run:
            kept.clear()  # a re-run: only the last run's attempts decide
        kept.append(attempt)
    wrong = []
    for document in Document.objects.filter(pk__in=ids).only("id", "status", "status_reason"):
        problem = _wrong_ending(document.status, document.status_reason, runs.get(document.pk, []))
        if problem:
            wrong.append((document.pk, problem))
    return wrong


def _wrong_ending(status: str, reason: str, attempts: list) -> str | None:
    if not attempts:
        return f"{status} without an attempt"
    last = attempts[-1]
    if status == "extracted":
        return None if last.outcome == "succeeded" else f"extracted, but its last attempt ended {last.outcome}"
    if last.outcome == "final_error":
        expected = "unreadable" if last.error_code in UNREADABLE_CODES else "failed"
        if status != expected:
            return f"{status}, but {last.error_code} ({last.vendor_code}) means {expected}"
        named = last.vendor_code or last.provider
        return None if named in reason else f"the reason {reason!r} does not name {named}"
    retried = all(a.outcome in {"retryable_error", "unknown"} for a in attempts)
    if status == "failed" and retried and len(attempts) >= MAX_ATTEMPTS and "no attempts left" in reason:
        return None
    return f"{status} ({reason!r}) after {len(attempts)} attempts, the last {last.outcome}/{last.error_code}"


if __name__ == "__main__":
    sys.exit(main())
