"""Storing an OCR result on a document: fields, portraits, warnings and our own checks.

Called by the pipeline inside its finishing transaction, with the document row locked; the
``one_applied_per_run`` and ``one_value_per_attempt_field`` constraints make a second application of
the same run fail loudly rather than silently duplicate.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from kyc.choices import FieldSource
from kyc.exceptions import DocumentInvalid
from kyc.models import Check, Document, ExtractedField, OcrAttempt, Portrait
from kyc.rows import insert_rows, new
from kyc.services.documents import blind_index_for
from kyc.services.intake import image_normalise
from kyc.storage import private_storage
from ocr_providers import OcrResult
from ocr_providers.documents import DocumentType, Side

log = logging.getLogger(__name__)
_SOURCES = {FieldSource.VENDOR.value, FieldSource.MACHINE_CODE.value}


def _found(result: OcrResult) -> dict[str, Any]:
    """The fields the result has a value for (a field not found is missing, never an empty value)."""
    return {name: field for name, field in result.fields.items() if field.value not in (None, "", [])}


def _store_fields(document: Document, attempt: OcrAttempt, result: OcrResult) -> int:
    rows = [
        new(
            ExtractedField,
            document_id=document.pk,
            attempt_id=attempt.pk,
            name=name,
            value=field.value,
            raw=field.raw or None,
            confidence=None if field.confidence is None else min(max(float(field.confidence), 0.0), 1.0),
            source=field.source if field.source in _SOURCES else FieldSource.VENDOR,
            blind_index=blind_index_for(document.document_type, name, field.value),
        )
        for name, field in _found(result).items()
    ]
    if document.ocr_run > 1:  # a re-run: earlier values stay as history (a first run has none)
        ExtractedField.objects.filter(document=document, is_current=True).update(is_current=False)
    insert_rows(rows, keys=False)
    return len(rows)


def _store_portraits(document: Document, attempt: OcrAttempt, result: OcrResult) -> int:
    stored = 0
    for portrait in result.portraits:
        try:
            # vendor bytes get the same scrubbing as uploads; stored once, never sent on: no second pass
            image = image_normalise(portrait.image, optimize=False)
        except DocumentInvalid as error:
            log.warning("portrait from %s discarded: %s", attempt.provider, error.code)
            continue
        name = private_storage().save(f"portraits/{uuid.uuid4().hex}.{image.extension}", ContentFile(image.content))
        insert_rows(
            [
                Portrait(
                    document=document,
                    attempt=attempt,
                    image=name,
                    content_type=image.content_type,
                    corners=[list(point) for point in portrait.corners],
                )
            ],
            keys=False,
        )
        stored += 1
    return stored


def result_duplicate_read(
    document_type: str, side: str, document_id: Any, result: OcrResult
) -> tuple[tuple[str, str], tuple[str, list[Any]]] | None:
    """The duplicate-number check's one read, known from the result alone: ``((namespace, number),
    statement)``, or ``None`` when the check reads nothing. The pipeline's finish sends the statement
    with its lock read (one round trip) and gives the answer to ``result_checks`` as ``known``."""
    from kyc.checks import CheckInput
    from kyc.checks.numbers import duplicate_number
    from kyc.services.duplicates import holders_read

    if not _found(result):
        return None
    inp = CheckInput(
        document_type=DocumentType(document_type), side=Side(side), fields=result.fields, today=timezone.localdate()
    )
    key = duplicate_number(inp)
    return None if key is None else (key, holders_read(*key, document_id))


def result_checks(
    document: Document, result: OcrResult, *, known: Mapping[tuple[str, str], list[str]] | None = None
) -> list[Any]:
    """Our own checks over ``result`` (none when it found no field): plain functions, but for the
    duplicate-number lookup, a read of other applicants' fields (none when ``known`` holds its answer:
    ``result_duplicate_read``). The pipeline runs them before it writes anything of the result, so its
    writes can go out together (kyc.rows.deferred_writes)."""
    from kyc.checks import CheckInput, run_checks
    from kyc.services.duplicates import duplicate_lookup_for

    if not _found(result):
        return []
    applicant = document.case.applicant
    declared = {
        key: getattr(applicant, f"declared_{key}") for key in ("name_zh", "name_en", "birth_date", "nationality")
    }
    inp = CheckInput(
        document_type=DocumentType(document.document_type),
        side=Side(document.side),
        fields=result.fields,
        warnings=tuple(result.warnings),
        declared={k: v for k, v in declared.items() if v},
        today=timezone.localdate(),
        expiry_warning_days=settings.KYC_EXPIRY_WARNING_DAYS,
        duplicate_lookup=duplicate_lookup_for(document.pk, known),
    )
    outcomes = list(run_checks(inp))
    if result.document_type and result.document_type.value != document.document_type:
        outcomes.append(_type_mismatch(document, result.document_type.value))
    return outcomes


def _store_checks(document: Document, attempt: OcrAttempt, outcomes: list[Any]) -> list[Check]:
    if document.ocr_run > 1:
        document.checks.filter(is_current=True).update(is_current=False)
    checks = [
        new(
            Check,
            case_id=document.case_id,
            document_id=document.pk,
            attempt_id=attempt.pk,
            code=o.code,
            result=o.result,
            detail=o.detail[:500],
            data=_jsonable(o.data),
        )
        for o in outcomes
    ]
    insert_rows(checks, keys=False)
    return checks


def _type_mismatch(document: Document, detected: str) -> Any:
    from kyc.checks import CheckOutcome

    return CheckOutcome(
        code="document_type_matches",
        result="fail",
        detail=f"Submitted as {document.get_document_type_display()}, but the image looks like "
        f"a {detected.replace('_', ' ')}.",
        data={"detected": detected},
    )


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple | set):
        return [_jsonable(v) for v in data]
    return data.isoformat() if isinstance(data, date) else data


def result_apply(*, document: Document, attempt: OcrAttempt, result: OcrResult, checked: list[Any]) -> dict[str, Any]:
    """Store ``result`` as the document's current reading, with our checks over it (``checked``: what
    ``result_checks`` found, run by the caller before it wrote anything). Returns a summary (field names,
    counts, check results; no values) that the caller records in the audit event of the status change.
    The rows' own keys are not read back: nothing after needs them."""
    field_count = _store_fields(document, attempt, result)
    portrait_count = _store_portraits(document, attempt, result)
    checks = _store_checks(document, attempt, checked) if field_count else []
    if result.detected_type and result.document_type:
        document.detected_type = result.document_type.value  # saved with the caller's status change
    return {
        "attempt": attempt.number,
        "provider": attempt.provider,
        "action": attempt.action,
        "vendor_request_id": attempt.vendor_request_id,
        "fields": field_count,
        "field_names": sorted(result.fields),
        "portraits": portrait_count,
        "warnings": list(result.warnings),
        "checks": {c.code: c.result for c in checks},
    }
