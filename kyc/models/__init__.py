from kyc.models.audit import AuditEvent
from kyc.models.cases import Applicant, Case, Decision, Note, Partner
from kyc.models.documents import Check, Document, ExtractedField, OcrAttempt, Portrait
from kyc.models.pipeline import ProviderState, RateLimitSlot

__all__ = [
    "Applicant",
    "AuditEvent",
    "Case",
    "Check",
    "Decision",
    "Document",
    "ExtractedField",
    "Note",
    "OcrAttempt",
    "Partner",
    "Portrait",
    "ProviderState",
    "RateLimitSlot",
]
