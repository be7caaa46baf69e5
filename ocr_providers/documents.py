"""Document types, sides and canonical field names shared by every provider and by ``kyc``.

This is the single source of truth for what a document *is* in this project: ``kyc.choices`` builds its
Django choices from it, providers normalise vendor payloads onto these names, and the specimen generator
writes its ground truth with them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DATE_FIELDS",
    "FIELDS",
    "SIDES",
    "DocumentType",
    "Side",
    "Warning",
    "fields_for",
]


class DocumentType(StrEnum):
    HK_ID_CARD = "hk_id_card"
    CN_PASSPORT = "cn_passport"
    EXIT_ENTRY_PERMIT = "exit_entry_permit"
    MAINLAND_TRAVEL_PERMIT = "mainland_travel_permit"


class Side(StrEnum):
    FRONT = "front"
    BACK = "back"


class Warning(StrEnum):
    """Normalised vendor warnings (what a reviewer must look at)."""

    PHOTOCOPY = "photocopy"
    SCREEN_CAPTURE = "screen_capture"
    TAMPERED = "tampered"
    COVERED = "covered"
    REFLECTION = "reflection"
    BLUR = "blur"
    INCOMPLETE = "incomplete"
    FIELD_DISAGREEMENT = "field_disagreement"
    NOT_OFFERED = "not_offered"  # the vendor has no such check for this document type


# Sides each type has. A passport data page and the HKID photo side are single-sided.
SIDES: dict[DocumentType, tuple[Side, ...]] = {
    DocumentType.HK_ID_CARD: (Side.FRONT,),
    DocumentType.CN_PASSPORT: (Side.FRONT,),
    DocumentType.EXIT_ENTRY_PERMIT: (Side.FRONT, Side.BACK),
    DocumentType.MAINLAND_TRAVEL_PERMIT: (Side.FRONT, Side.BACK),
}

FIELDS: dict[tuple[DocumentType, Side], tuple[str, ...]] = {
    (DocumentType.HK_ID_CARD, Side.FRONT): (
        "name_zh",
        "name_en",
        "telecode",
        "sex",
        "birth_date",
        "symbols",
        "first_issue_date",
        "issue_date",
        "document_number",
        "permanent",
        "card_version",
    ),
    (DocumentType.CN_PASSPORT, Side.FRONT): (
        "name_zh",
        "surname_en",
        "given_names_en",
        "sex",
        "birth_date",
        "birth_place",
        "nationality",
        "country_code",
        "document_number",
        "issue_date",
        "issue_place",
        "expiry_date",
        "mrz",
    ),
    (DocumentType.EXIT_ENTRY_PERMIT, Side.FRONT): (
        "name_zh",
        "name_en",
        "sex",
        "birth_date",
        "document_number",
        "issue_date",
        "expiry_date",
        "issuing_authority",
        "issue_place",
        "machine_code",
        "permit_type",
    ),
    # Each endorsement is a dict with keys region (hk/mo/tw), type, valid_round_trips, valid_until,
    # remark, issue_info; the field's value is the list of them.
    (DocumentType.EXIT_ENTRY_PERMIT, Side.BACK): ("endorsements",),
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.FRONT): (
        "name_zh",
        "name_en",
        "sex",
        "birth_date",
        "document_number",
        "issue_date",
        "expiry_date",
        "issuing_authority",
        "issue_place",
        "issue_times",
        "machine_code",
        "permit_type",
    ),
    (DocumentType.MAINLAND_TRAVEL_PERMIT, Side.BACK): ("hkid_name", "hkid_number"),
}

# Stored as ISO dates (YYYY-MM-DD); the value as read is kept beside them.
DATE_FIELDS = frozenset({"birth_date", "first_issue_date", "issue_date", "expiry_date"})

ENDORSEMENT_KEYS = ("region", "type", "valid_round_trips", "valid_until", "remark", "issue_info")


def fields_for(document_type: DocumentType | str, side: Side | str) -> tuple[str, ...]:
    """Canonical field names for one side of one document type (empty for an unknown side)."""
    return FIELDS.get((DocumentType(document_type), Side(side)), ())
