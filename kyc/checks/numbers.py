"""Checks on document numbers: the HKID check character, and numbers already held by someone else."""

from __future__ import annotations

import re

from kyc.checks.base import FAIL, NOT_AVAILABLE, PASS, CheckInput, CheckOutcome, Holders
from kyc.checks.text import mask_number
from ocr_providers.checkdigits import hkid_is_valid, hkid_normalise
from ocr_providers.documents import DocumentType, Side

__all__ = ["check_duplicate_document_number", "check_hkid_check_digit", "duplicate_number", "number_field"]

HKID_CHECK_DIGIT = "hkid_check_digit"
DUPLICATE = "duplicate_document_number"
HKID_NAMESPACE = "hkid"
HOLDERS_SHOWN = 20  # other holders named in a failed duplicate check; a reviewer needs the first few

# Sides that carry an HKID number, and the field it is in.
_HKID_FIELDS = {
    (DocumentType.HK_ID_CARD, Side.FRONT): "document_number",
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK): "hkid_number",
}


def number_field(inp: CheckInput) -> tuple[str, str] | None:
    """``(namespace, field name)`` of the number that identifies this side, ``None`` if it has none.

    HKID numbers share the ``hkid`` namespace wherever they are printed; the blind index uses the
    same rule, so an MTP back side and an HKID card of the same person collide as they should.
    """
    key = (inp.document_type, inp.side)
    if key in _HKID_FIELDS:
        return HKID_NAMESPACE, _HKID_FIELDS[key]
    if inp.side == Side.FRONT:
        return str(inp.document_type), "document_number"
    return None


def duplicate_number(inp: CheckInput) -> tuple[str, str] | None:
    """``(namespace, number)``: what the duplicate check looks up for this side, ``None`` when it looks
    nothing up (no number on this side, or none read). A caller can read it ahead of the check."""
    located = number_field(inp)
    if located is None:
        return None
    number = inp.text(located[1])
    return None if number is None else (located[0], number)


def check_hkid_check_digit(inp: CheckInput) -> CheckOutcome:
    """The HKID number (on the card, or on a Mainland Travel Permit's back) has a valid check character."""
    name = _HKID_FIELDS.get((inp.document_type, inp.side))
    if name is None:
        return CheckOutcome(HKID_CHECK_DIGIT, NOT_AVAILABLE, "There is no HKID number on this document side.")
    number = inp.text(name)
    if number is None:
        return CheckOutcome(HKID_CHECK_DIGIT, NOT_AVAILABLE, "The HKID number was not read.", {"field": name})
    if hkid_is_valid(number):
        return CheckOutcome(HKID_CHECK_DIGIT, PASS, "The HKID number's check character is right.", {"field": name})
    if not re.fullmatch(r"[A-Z]{1,2}[0-9]{6}[0-9A]", hkid_normalise(number)):
        detail = "The HKID number is not one or two letters, six digits and a check character."
        return CheckOutcome(HKID_CHECK_DIGIT, FAIL, detail, {"field": name, "well_formed": False})
    detail = f"The check character of HKID number {mask_number(number)} is wrong."
    return CheckOutcome(HKID_CHECK_DIGIT, FAIL, detail, {"field": name, "well_formed": True})


def check_duplicate_document_number(inp: CheckInput) -> CheckOutcome:
    """No other applicant already holds this document number (or this HKID number)."""
    located = number_field(inp)
    if located is None:
        return CheckOutcome(DUPLICATE, NOT_AVAILABLE, "There is no document number on this document side.")
    namespace, name = located
    data: dict[str, object] = {"namespace": namespace, "field": name}
    if inp.duplicate_lookup is None:
        return CheckOutcome(DUPLICATE, NOT_AVAILABLE, "No duplicate lookup was available.", data)
    key = duplicate_number(inp)
    if key is None:
        return CheckOutcome(DUPLICATE, NOT_AVAILABLE, "The document number was not read.", data)
    number = key[1]
    found = inp.duplicate_lookup(namespace, number)
    others = list(dict.fromkeys(found))
    if not others:
        return CheckOutcome(DUPLICATE, PASS, "No other applicant holds this number.", data)
    more = len(others) > HOLDERS_SHOWN
    partial = isinstance(found, Holders) and found.partial
    data["other_applicants"] = others[:HOLDERS_SHOWN]
    data["more_applicants"] = more or partial
    count = f"more than {HOLDERS_SHOWN}" if more else f"at least {len(others)}" if partial else str(len(others))
    plural = "applicant" if len(others) == 1 else "applicants"
    label = "HKID number" if namespace == HKID_NAMESPACE else "document number"
    detail = f"The {label} {mask_number(number)} already belongs to {count} other {plural}."
    if partial:
        detail += " It is on so many documents that the lookup stopped reading them: there may be more."
    return CheckOutcome(DUPLICATE, FAIL, detail, data)
