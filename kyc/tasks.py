"""django-q2 entry points: ids in, one service call, a short status word out (never personal data)."""

from __future__ import annotations

from kyc.services import ocr


def document_ocr_task(document_id: str) -> str:
    return ocr.ocr_document_run(document_id=document_id)


def ocr_sweep_task() -> str:
    result = ocr.ocr_sweep()
    return f"requeued_lost={result['requeued_lost']} dispatched={result['dispatched']}"
