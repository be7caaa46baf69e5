"""Periodic jobs, declared in code and synced by ``manage.py kyc_sync_schedules``."""

SCHEDULES = [
    # name, function, minutes between runs
    ("ocr-sweep", "kyc.tasks.ocr_sweep_task", 1),
]
