"""Stored values are lowercase snake strings; labels are translatable."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ocr_providers.documents import DocumentType as _DocumentType
from ocr_providers.documents import Side as _Side

__all__ = [
    "CaseStatus",
    "CheckResult",
    "DecisionKind",
    "DocumentKind",
    "DocumentSide",
    "DocumentStatus",
    "FieldSource",
    "OcrOutcome",
    "ReasonCode",
]


class DocumentKind(models.TextChoices):
    HK_ID_CARD = _DocumentType.HK_ID_CARD.value, _("Hong Kong identity card")
    CN_PASSPORT = _DocumentType.CN_PASSPORT.value, _("Mainland China passport")
    EXIT_ENTRY_PERMIT = _DocumentType.EXIT_ENTRY_PERMIT.value, _("Exit-Entry Permit (HK/Macao/Taiwan)")
    MAINLAND_TRAVEL_PERMIT = _DocumentType.MAINLAND_TRAVEL_PERMIT.value, _("Mainland Travel Permit")


class DocumentSide(models.TextChoices):
    FRONT = _Side.FRONT.value, _("Front")
    BACK = _Side.BACK.value, _("Back")


class DocumentStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued for OCR")
    PROCESSING = "processing", _("Processing")
    EXTRACTED = "extracted", _("Extracted")
    UNREADABLE = "unreadable", _("Unreadable")
    FAILED = "failed", _("Failed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESUBMISSION_REQUESTED = "resubmission_requested", _("Resubmission requested")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_REVIEW = "in_review", _("In review")
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval", _("Awaiting second approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESUBMISSION_REQUESTED = "resubmission_requested", _("Resubmission requested")


class FieldSource(models.TextChoices):
    VENDOR = "vendor", _("OCR (visual zone)")
    MACHINE_CODE = "machine_code", _("Machine-readable code")
    REVIEWER = "reviewer", _("Reviewer")


class CheckResult(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    WARN = "warn", _("Warning")
    NOT_AVAILABLE = "not_available", _("Not available")


class DecisionKind(models.TextChoices):
    APPROVE = "approve", _("Approve")
    SECOND_APPROVE = "second_approve", _("Second approval")
    REJECT = "reject", _("Reject")
    REQUEST_RESUBMISSION = "request_resubmission", _("Request resubmission")


class ReasonCode(models.TextChoices):
    VERIFIED = "verified", _("Identity verified")
    DOCUMENT_EXPIRED = "document_expired", _("Document expired")
    DATA_MISMATCH = "data_mismatch", _("Data does not match the declared details")
    SUSPECTED_TAMPERING = "suspected_tampering", _("Suspected tampering or forgery")
    PHOTOCOPY_OR_SCREEN = "photocopy_or_screen", _("Photocopy or screen capture")
    POOR_IMAGE_QUALITY = "poor_image_quality", _("Image unreadable or poor quality")
    WRONG_DOCUMENT = "wrong_document", _("Wrong or unsupported document")
    INCOMPLETE = "incomplete", _("Document incomplete or side missing")
    DUPLICATE = "duplicate", _("Document already used by another applicant")
    CHECK_DIGIT_FAILED = "check_digit_failed", _("Machine code check digit failed")
    OTHER = "other", _("Other")


class OcrOutcome(models.TextChoices):
    SENT = "sent", _("Sent, no answer yet")
    SUCCEEDED = "succeeded", _("Succeeded")
    RETRYABLE_ERROR = "retryable_error", _("Retryable error")
    FINAL_ERROR = "final_error", _("Final error")
    CONFIG_ERROR = "config_error", _("Configuration error")
    UNKNOWN = "unknown", _("Unknown outcome (worker lost)")
