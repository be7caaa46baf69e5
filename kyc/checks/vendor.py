"""The vendor's own warnings (photocopy, tampering, blur...), one outcome per warning."""

from __future__ import annotations

from kyc.checks.base import FAIL, NOT_AVAILABLE, PASS, WARN, CheckInput, CheckOutcome
from ocr_providers.documents import Warning

__all__ = ["check_vendor_warnings"]

VENDOR_WARNING = "vendor_warning"

# Authenticity signals fail (a reviewer must decide); image-quality signals only warn.
_VERDICTS: dict[str, tuple[str, str]] = {
    Warning.PHOTOCOPY: (FAIL, "The vendor says the image is a photocopy."),
    Warning.SCREEN_CAPTURE: (FAIL, "The vendor says the image was taken of a screen."),
    Warning.TAMPERED: (FAIL, "The vendor says the document may have been tampered with."),
    Warning.COVERED: (FAIL, "The vendor says part of the document is covered."),
    Warning.FIELD_DISAGREEMENT: (FAIL, "The vendor says fields on the document disagree with each other."),
    Warning.REFLECTION: (WARN, "The vendor says glare or reflection hides part of the document."),
    Warning.BLUR: (WARN, "The vendor says the image is blurred."),
    Warning.INCOMPLETE: (WARN, "The vendor says the document is not wholly in the picture."),
    Warning.NOT_OFFERED: (NOT_AVAILABLE, "The vendor offers no authenticity checks for this document type."),
}


def check_vendor_warnings(inp: CheckInput) -> list[CheckOutcome]:
    """One ``vendor_warning.<warning>`` outcome per warning, or one pass when the vendor raised none."""
    if not inp.warnings:
        return [CheckOutcome(VENDOR_WARNING, PASS, "The vendor raised no warnings.")]
    outcomes = []
    for warning in dict.fromkeys(inp.warnings):
        result, detail = _VERDICTS.get(warning, (WARN, "The vendor raised a warning this system does not know."))
        outcomes.append(CheckOutcome(f"{VENDOR_WARNING}.{warning}", result, detail, {"warning": warning}))
    return outcomes
