"""The error taxonomy the pipeline acts on.

Every provider failure is one of three kinds, and each keeps the vendor's own code and message:

* ``OcrUnavailable`` - retryable: rate limited, vendor busy or internal error, timeout, network.
* ``OcrRejected`` - final for this document: wrong type, unreadable, too large or too small.
* ``OcrMisconfigured`` - configuration: bad credentials, service not activated, arrears, region.
"""

from __future__ import annotations

__all__ = [
    "OcrError",
    "OcrMisconfigured",
    "OcrRejected",
    "OcrUnavailable",
    "OcrUnknownOutcome",
]


class OcrError(Exception):
    """Base class. ``code`` is our stable code; ``vendor_code``/``vendor_message`` are the vendor's words."""

    kind = "error"
    code = "ocr_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        vendor_code: str = "",
        vendor_message: str = "",
        request_id: str = "",
        retry_after: float | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.vendor_code = vendor_code
        self.vendor_message = vendor_message
        self.request_id = request_id
        self.retry_after = retry_after
        self.http_status = http_status

    def as_dict(self) -> dict[str, object]:
        return {
            "class": self.kind,
            "code": self.code,
            "vendor_code": self.vendor_code,
            "message": self.message,
            "vendor_message": self.vendor_message,
            "request_id": self.request_id,
        }


class OcrUnavailable(OcrError):
    """Retryable: try again later (honour ``retry_after`` when the vendor gave one)."""

    kind = "retryable"
    code = "vendor_unavailable"


class OcrUnknownOutcome(OcrUnavailable):
    """The request was sent and no answer came back (read timeout, reset): the vendor may have billed it."""

    code = "unknown_outcome"


class OcrRejected(OcrError):
    """Final for this document: retrying the same image will not help."""

    kind = "final"
    code = "document_rejected"


# What a final code means for the document. The photo itself cannot be read as the document asked for:
# the reviewer asks the applicant for another photo, and the document ends "unreadable".
UNREADABLE_CODES = frozenset(
    {"unreadable_image", "image_too_small", "not_a_document", "wrong_document_type", "wrong_side", "several_documents"}
)
# Anything else is for staff to look into, and the document ends "failed": a file larger than the
# vendor takes, a machine code the vendor found contradicting the visual zone, a rejection with no reason.
FAILED_CODES = frozenset({"image_too_large", "mrz_mismatch", "document_rejected"})


class OcrMisconfigured(OcrError):
    """Configuration: stop calling this provider and alert an operator."""

    kind = "configuration"
    code = "provider_misconfigured"
