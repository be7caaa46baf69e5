"""Documents (one image of one side), OCR attempts, extracted fields, portraits and checks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kyc.choices import CheckResult, DocumentKind, DocumentSide, DocumentStatus, FieldSource, OcrOutcome
from kyc.fields import EncryptedJSONField, EncryptedTextField
from kyc.models.cases import Case


class Document(models.Model):
    """One submitted image of one side of an identity document. The image is stored re-encoded, with
    all metadata dropped, under the private root; ``original_sha256`` spots re-submissions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    document_type = models.CharField(max_length=32, choices=DocumentKind.choices)
    side = models.CharField(max_length=8, choices=DocumentSide.choices, default=DocumentSide.FRONT)
    status = models.CharField(
        max_length=32, choices=DocumentStatus.choices, default=DocumentStatus.RECEIVED, db_index=True
    )
    image = models.CharField(max_length=200, help_text=_("Name in private storage (no URL)."))
    content_type = models.CharField(max_length=32, default="image/jpeg")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    original_format = models.CharField(max_length=8)
    original_sha256 = models.CharField(max_length=64, db_index=True)
    stored_sha256 = models.CharField(max_length=64)
    detected_type = models.CharField(max_length=32, choices=DocumentKind.choices, blank=True)
    status_reason = models.CharField(
        max_length=300, blank=True, help_text=_("Why the document is unreadable or failed.")
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # OCR job state lives here, not in the queue: the run (bumped by each re-run), when the next attempt
    # may start, and until when the current attempt's worker holds the document.
    ocr_run = models.PositiveIntegerField(default=0)
    ocr_next_at = models.DateTimeField(null=True, blank=True)
    ocr_lease_until = models.DateTimeField(null=True, blank=True)
    # A task for this document waits in the broker (possibly delayed until ocr_next_at). The sweeper only
    # dispatches queued documents without one, so a long backlog is never enqueued twice.
    ocr_task_queued = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DocumentStatus.values), name="document_status_valid"),
            models.CheckConstraint(condition=Q(document_type__in=DocumentKind.values), name="document_type_valid"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="document_status_age")]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} ({self.get_side_display()})"


class OcrAttempt(models.Model):
    """One vendor call, written before the call and completed after it. An attempt left ``sent`` by a
    killed worker becomes ``unknown``: the vendor may have answered (and billed) it."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="ocr_attempts")
    number = models.PositiveIntegerField()
    run = models.PositiveIntegerField(default=1)
    route_step = models.PositiveSmallIntegerField(default=0, help_text=_("0 = primary, 1.. = fallbacks"))
    provider = models.CharField(max_length=32)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=20, choices=OcrOutcome.choices, default=OcrOutcome.SENT, db_index=True)
    vendor_request_id = models.CharField(max_length=128, blank=True)
    error_class = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    vendor_code = models.CharField(max_length=128, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    quota_wait_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Time spent waiting for a quota slot.")
    )
    warnings = models.JSONField(default=list, blank=True)
    raw_response = EncryptedJSONField(null=True, blank=True, help_text=_("Vendor JSON with images stripped."))
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    applied = models.BooleanField(default=False, help_text=_("Its result is the one stored on the document."))

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="ocr_attempt_number"),
            # A result is applied once per run, whatever the queue redelivers.
            models.UniqueConstraint(fields=["document", "run"], condition=Q(applied=True), name="one_applied_per_run"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.provider}:{self.action} {self.outcome}"


class ExtractedField(models.Model):
    """One version of one canonical field. A correction or a re-run adds a new current version and keeps
    the old one as history (``supersedes``); values are encrypted, document numbers blind-indexed."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="fields")
    attempt = models.ForeignKey(OcrAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="fields")
    name = models.CharField(max_length=48)
    value = EncryptedJSONField(null=True, blank=True)
    raw = EncryptedTextField(null=True, blank=True, help_text=_("The value as read on the document."))
    confidence = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=FieldSource.choices)
    blind_index = models.CharField(max_length=64, blank=True, db_index=True)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "name", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "name"], condition=Q(is_current=True), name="one_current_value_per_field"
            ),
            models.UniqueConstraint(
                fields=["attempt", "name"],
                condition=Q(source__in=["vendor", "machine_code"]),
                name="one_value_per_attempt_field",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=1),
                name="confidence_in_unit_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_source_display()})"


class Portrait(models.Model):
    """The holder's photo cropped from a document, with its four corners in the stored image."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="portraits")
    attempt = models.ForeignKey(OcrAttempt, null=True, blank=True, on_delete=models.PROTECT)
    image = models.CharField(max_length=200)
    content_type = models.CharField(max_length=32, default="image/jpeg")
    corners = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Portrait {self.pk} of {self.document_id}"


class Check(models.Model):
    """The outcome of one of our own checks on a document (or on the case as a whole)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="checks")
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="checks")
    attempt = models.ForeignKey(OcrAttempt, null=True, blank=True, on_delete=models.PROTECT)
    code = models.CharField(max_length=64)
    result = models.CharField(max_length=16, choices=CheckResult.choices)
    detail = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(result__in=CheckResult.values), name="check_result_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.result}"
