"""Document writes: intake, status changes, field corrections and audited reads of images and fields."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction

from kyc import crypto, rows
from kyc.choices import DocumentKind, DocumentSide, FieldSource
from kyc.exceptions import DocumentInvalid, InvalidTransition
from kyc.models import Case, Document, ExtractedField
from kyc.services.audit import audit_record
from kyc.services.intake import NormalisedImage, image_normalise
from kyc.storage import private_storage
from kyc.workflow import DOCUMENT_TERMINAL, document_can_transition
from ocr_providers.documents import SIDES, DocumentType

# Fields whose values are document numbers: blind-indexed so duplicates are an indexed lookup.
NUMBER_FIELDS = {"document_number", "hkid_number"}


def _check_type_and_side(document_type: str, side: str) -> None:
    if document_type not in DocumentKind.values:
        allowed = ", ".join(DocumentKind.values)
        raise DocumentInvalid(f"Unknown document type {document_type!r}; use one of: {allowed}.", code="unknown_type")
    sides = [s.value for s in SIDES[DocumentType(document_type)]]
    if side not in sides:
        raise DocumentInvalid(
            f"A {DocumentKind(document_type).label} has no {side!r} side; use one of: {', '.join(sides)}.",
            code="unknown_side",
        )


def _store_image(content: bytes, extension: str) -> str:
    # Random names only: nothing about the person or the document leaks through a path.
    name = f"documents/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{extension}"
    return private_storage().save(name, ContentFile(content))


@transaction.atomic
def document_add(
    *, case: Case, document_type: str, side: str = DocumentSide.FRONT, data: bytes, actor: User | None
) -> Document:
    """Validate and store one image of one side of a document on an open case."""
    _check_type_and_side(document_type, side)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_terminal:
        raise DocumentInvalid(f"The case is {case.get_status_display().lower()}; open a new case.", code="case_closed")
    image = image_normalise(data)
    stored_name = _store_image(image.content, image.extension)
    try:
        document = _document_create(case, document_type, side, image, stored_name, actor)
    except Exception:
        private_storage().delete(stored_name)  # no orphan file when the row cannot be written
        raise
    audit_record(
        actor=actor,
        action="document.received",
        obj=document,
        case_id=case.pk,
        data={
            "document_type": document_type,
            "side": side,
            "format": image.original_format,
            "width": image.width,
            "height": image.height,
            "original_sha256": image.original_sha256,
        },
    )
    return document


def _document_create(
    case: Case, document_type: str, side: str, image: NormalisedImage, stored_name: str, actor: User | None
) -> Document:
    return Document.objects.create(
        case=case,
        document_type=document_type,
        side=side,
        image=stored_name,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        size_bytes=len(image.content),
        original_format=image.original_format,
        original_sha256=image.original_sha256,
        stored_sha256=image.stored_sha256,
        uploaded_by=actor if actor is not None and actor.pk else None,
    )


def _document_set_status(
    document: Document,
    *,
    to: str,
    actor: User | None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    also: dict[str, Any] | None = None,
) -> None:
    """The only code that assigns ``Document.status``. The caller holds the row lock. ``also`` sets other
    columns in the same UPDATE (the pipeline's run, lease and next-attempt time)."""
    current = document.status
    if not document_can_transition(current, to):
        raise InvalidTransition("document", current, to)
    document.status = to
    document.status_reason = reason[:300]
    for name, value in (also or {}).items():
        setattr(document, name, value)
    # The caller holds the row's lock: the update needs no answer checked, and may go out with the COMMIT.
    rows.update_row(document, ["status", "status_reason", "updated_at", *(also or {})], locked=True)
    audit_record(
        actor=actor,
        action="document.status_changed",
        obj=document,
        case_id=document.case_id,
        data={"from": current, "to": to, "reason": reason[:300], **(data or {})},
    )


@transaction.atomic
def document_transition(
    *, document: Document, to: str, actor: User | None, reason: str = "", data: dict[str, Any] | None = None
) -> Document:
    """Move a document to ``to`` under a row lock, or raise ``InvalidTransition``."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    _document_set_status(document, to=to, actor=actor, reason=reason, data=data)
    return document


def blind_index_for(document_type: str, name: str, value: Any) -> str:
    if name not in NUMBER_FIELDS or not isinstance(value, str) or not value.strip():
        return ""
    namespace = "hkid" if name == "hkid_number" or document_type == DocumentKind.HK_ID_CARD else document_type
    return crypto.blind_index(namespace, value)


def documents_with_number(document_type: str, number: str) -> Any:
    """Every document whose current number field matches ``number`` (an indexed lookup, no decryption)."""
    field = "hkid_number" if document_type == DocumentKind.HK_ID_CARD else "document_number"
    index = blind_index_for(document_type, field, number)
    return Document.objects.filter(fields__blind_index=index, fields__is_current=True).distinct()


@transaction.atomic
def field_correct(*, field: ExtractedField, value: Any, actor: User, reason: str) -> ExtractedField:
    """A reviewer's correction: a new current version with source ``reviewer``; the old one is history."""
    document = Document.objects.select_for_update().get(pk=field.document_id)
    if document.status in DOCUMENT_TERMINAL:
        raise InvalidTransition("document", document.status, "corrected")
    old = ExtractedField.objects.select_for_update().get(pk=field.pk, is_current=True)
    old.is_current = False
    old.save(update_fields=["is_current"])
    new = ExtractedField.objects.create(
        document=document,
        attempt=old.attempt,
        name=old.name,
        value=value,
        raw=old.raw,
        confidence=None,
        source=FieldSource.REVIEWER,
        blind_index=blind_index_for(document.document_type, old.name, value),
        supersedes=old,
        reason=reason[:300],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="field.corrected",
        obj=new,
        case_id=document.case_id,
        data={
            "document_id": str(document.pk),
            "field": old.name,
            "reason": reason[:300],
            "before_digest": crypto.value_digest(repr(old.value)),
            "after_digest": crypto.value_digest(repr(value)),
        },
    )
    return new


def document_image_read(*, document: Document, actor: User, purpose: str = "review") -> bytes:
    """The stored image bytes, after an audit event is written (no event, no bytes)."""
    audit_record(
        actor=actor, action="document.image_viewed", obj=document, case_id=document.case_id, data={"purpose": purpose}
    )
    with private_storage().open(document.image, "rb") as handle:
        content: bytes = handle.read()
    return content


def document_fields_read(*, document: Document, actor: User, purpose: str = "review") -> list[ExtractedField]:
    """Current decrypted fields of a document, after an audit event naming who looked and why."""
    audit_record(
        actor=actor, action="document.fields_viewed", obj=document, case_id=document.case_id, data={"purpose": purpose}
    )
    return list(document.fields.filter(is_current=True).order_by("name"))


__all__ = [
    "NUMBER_FIELDS",
    "blind_index_for",
    "document_add",
    "document_fields_read",
    "document_image_read",
    "document_transition",
    "documents_with_number",
    "field_correct",
]
