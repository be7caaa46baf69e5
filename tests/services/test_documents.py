"""Field corrections keep history; reads of images and fields are audited before anything is returned."""

from __future__ import annotations

import pytest

from kyc.exceptions import InvalidTransition
from kyc.models import AuditEvent, ExtractedField
from kyc.services.cases import case_reject
from kyc.services.documents import (
    blind_index_for,
    document_add,
    document_fields_read,
    document_image_read,
    documents_with_number,
    field_correct,
)
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(case, reviewer):
    return document_add(case=case, document_type="hk_id_card", side="front", data=image_bytes(), actor=reviewer)


@pytest.fixture
def number_field(document):
    return ExtractedField.objects.create(
        document=document,
        name="document_number",
        value="A123456(3)",
        raw="A123456(3)",
        confidence=0.62,
        source="vendor",
        blind_index=blind_index_for("hk_id_card", "document_number", "A123456(3)"),
    )


def test_correction_adds_a_version_and_keeps_the_old_one(document, number_field, reviewer):
    corrected = field_correct(field=number_field, value="A123457(1)", actor=reviewer, reason="misread 6 as 7")
    versions = list(ExtractedField.objects.filter(document=document, name="document_number").order_by("created_at"))
    assert [(v.value, v.is_current, v.source) for v in versions] == [
        ("A123456(3)", False, "vendor"),
        ("A123457(1)", True, "reviewer"),
    ]
    assert corrected.supersedes == number_field
    assert corrected.confidence is None
    event = AuditEvent.objects.get(action="field.corrected")
    assert event.data["field"] == "document_number"
    assert event.data["before_digest"] != event.data["after_digest"]
    assert "A123456" not in str(event.data)
    assert "A123457" not in str(event.data)
    # the blind index follows the corrected value
    assert list(documents_with_number("hk_id_card", "A123457(1)")) == [document]
    assert list(documents_with_number("hk_id_card", "A123456(3)")) == []


def test_a_stale_version_cannot_be_corrected(number_field, reviewer):
    field_correct(field=number_field, value="A123457(1)", actor=reviewer, reason="x")
    with pytest.raises(ExtractedField.DoesNotExist):
        field_correct(field=number_field, value="A000000(0)", actor=reviewer, reason="y")


def test_fields_of_a_closed_document_cannot_be_corrected(case, number_field, reviewer):
    case_reject(case=case, actor=reviewer, reason_codes=["other"])
    with pytest.raises(InvalidTransition):
        field_correct(field=number_field, value="A123457(1)", actor=reviewer, reason="late")


def test_reads_are_audited(document, number_field, reviewer):
    assert document_image_read(document=document, actor=reviewer, purpose="review")[:8] == b"\x89PNG\r\n\x1a\n"
    assert [f.name for f in document_fields_read(document=document, actor=reviewer)] == ["document_number"]
    actions = list(AuditEvent.objects.filter(object_id=str(document.pk)).values_list("action", flat=True))
    assert actions[-2:] == ["document.image_viewed", "document.fields_viewed"]
