"""``manage.py qcluster`` that also appends each finished task's figures to a file, for the benchmarks.

The throughput benchmark needs each task's wall time (its result, ``extracted 341ms``), its end, and
which of its worker's tasks it was (the first task of a new worker is a cold start). Keeping
django-q2's task rows for that (``save_limit`` 0) would add a row insert per task in each cluster's
monitor, work the production setting (-1, successes not kept) does not do. Instead, django-q2's
``post_execute`` signal, which the monitor sends for every task whether it saves the row or not,
appends one JSON line per document task to ``$KYC_BENCH_TASK_LOG/tasks-<monitor pid>.jsonl``.

    KYC_BENCH_TASK_LOG=/tmp/dir python bench/qcluster_task_log.py

It also records, per vendor call, when its quota slot began and when the request headers actually
started to leave (``sends-<worker pid>.jsonl``, wall-clock seconds): compared with the emulator's
arrival stamps, that tells a sender that left late from a receiver that stamped late, when a
one-second window holds more calls than the quota.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TASK = "kyc.tasks.document_ocr_task"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django_q.signals import post_execute, post_execute_in_worker

    directory = Path(os.environ["KYC_BENCH_TASK_LOG"])
    files: dict[int, Any] = {}

    def record(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
        if task.get("func") != TASK:
            return
        handle = files.get(os.getpid())
        if handle is None:  # the monitor is forked from this process: one file per monitor
            handle = files[os.getpid()] = open(directory / f"tasks-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115
        line = {
            "args": list(task.get("args") or ()),
            "success": bool(task.get("success")),
            "result": str(task.get("result")),
            "stopped": task["stopped"].isoformat() if task.get("stopped") else None,
            "worker_task": task.get("worker_task"),  # 1: the first task of a newly started worker
        }
        handle.write(json.dumps(line) + "\n")

    def number(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
        counted["tasks"] += 1  # in the worker: its own count (forked from here before any task ran)
        task["worker_task"] = counted["tasks"]

    counted = {"tasks": 0}
    post_execute_in_worker.connect(number, weak=False)
    post_execute.connect(record, weak=False)
    _log_sends(directory)
    call_command("qcluster")


def _log_sends(directory: Path) -> None:
    """Wrap the HTTP layer's slot gate: each opened gate appends its action, slot and send time."""
    import time

    from ocr_providers import http

    current = {"action": ""}
    files: dict[int, Any] = {}
    post, gate_open = http.VendorHttpClient.post, http._SlotGate.open

    def post_logged(self: Any, url: str, **kwargs: Any) -> Any:
        current["action"] = kwargs.get("action", "")
        return post(self, url, **kwargs)

    def write(line: dict[str, Any]) -> None:
        handle = files.get(os.getpid())
        if handle is None:  # one file per worker process (forked after this ran)
            handle = files[os.getpid()] = open(directory / f"sends-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115
        handle.write(json.dumps(line) + "\n")

    def open_logged(gate: Any) -> None:
        if gate.sent_at is not None or not gate.not_before:
            gate_open(gate)
            return
        to_wall = time.time() - time.monotonic()
        try:
            gate_open(gate)
        except http.OcrUnavailable:  # the slot was missed: nothing was sent, the job takes a fresh slot
            write({"action": current["action"], "slot": gate.not_before + to_wall, "missed": True})
            raise
        write({"action": current["action"], "slot": gate.not_before + to_wall, "sent": gate.sent_at + to_wall})

    http.VendorHttpClient.post = post_logged  # type: ignore[method-assign]
    http._SlotGate.open = open_logged  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
