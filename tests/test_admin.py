"""The back office: every page renders, reads of personal data are logged, nothing is editable that
must not be, and transitions go through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kyc.models import AuditEvent, Case, Document, ExtractedField
from kyc.services.cases import applicant_create, case_open
from kyc.services.documents import document_add
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db
MODELS = [
    "partner",
    "applicant",
    "case",
    "document",
    "extractedfield",
    "ocrattempt",
    "auditevent",
    "check",
    "decision",
    "note",
    "portrait",
    "providerstate",
]


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("boss", password="pw-for-tests-only"))
    return client


@pytest.fixture
def document(case):
    document = document_add(case=case, document_type="hk_id_card", side="front", data=image_bytes(), actor=None)
    ExtractedField.objects.create(document=document, name="name_en", value="CANARY, Admin", source="vendor")
    return document


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders(admin_client, document, model):
    assert admin_client.get(reverse(f"admin:kyc_{model}_changelist")).status_code == 200


def test_changelists_never_show_field_values(admin_client, document):
    for model in ("extractedfield", "document", "applicant"):
        assert "CANARY" not in admin_client.get(reverse(f"admin:kyc_{model}_changelist")).content.decode()


def test_opening_a_document_logs_the_read_of_its_fields(admin_client, document):
    response = admin_client.get(reverse("admin:kyc_document_change", args=[document.pk]))
    assert response.status_code == 200
    assert "CANARY, Admin" in response.content.decode()
    event = AuditEvent.objects.get(action="document.fields_viewed")
    assert (event.actor_repr, event.object_id, event.data["purpose"]) == ("boss", str(document.pk), "back_office")


def test_audit_events_cannot_be_added_changed_or_deleted(admin_client, case):
    event = AuditEvent.objects.first()
    assert admin_client.get(reverse("admin:kyc_auditevent_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:kyc_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    admin_client.post(reverse("admin:kyc_auditevent_change", args=[event.pk]), {"action": "tampered"})
    event.refresh_from_db()
    assert event.action != "tampered"


def test_admin_transitions_call_the_services(admin_client, case):
    response = admin_client.post(
        reverse("admin:kyc_case_changelist"), {"action": "start_review", "_selected_action": [case.pk]}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_review"
    assert AuditEvent.objects.filter(action="case.review_started", actor_repr="boss").count() == 1


def test_reject_action_asks_for_reason_codes_first(admin_client, case):
    url = reverse("admin:kyc_case_changelist")
    form = admin_client.post(url, {"action": "case_reject", "_selected_action": [case.pk]})
    assert form.status_code == 200
    assert "reason_codes" in form.content.decode()
    admin_client.post(
        url,
        {
            "action": "case_reject",
            "_selected_action": [case.pk],
            "apply": "1",
            "reason_codes": ["suspected_tampering"],
            "comment": "hologram missing",
        },
    )
    case.refresh_from_db()
    assert case.status == "rejected"


def test_an_illegal_admin_transition_is_reported_not_raised(admin_client, case):
    Case.objects.filter(pk=case.pk).update(status="approved")
    response = admin_client.post(
        reverse("admin:kyc_case_changelist"), {"action": "start_review", "_selected_action": [case.pk]}, follow=True
    )
    assert "cannot move case from &#x27;approved&#x27; to &#x27;in_review&#x27;" in response.content.decode()


def test_case_list_query_count_does_not_grow_with_rows(admin_client, partner):
    def count():
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(reverse("admin:kyc_case_changelist"))
        return len(queries)

    for i in range(3):
        case_open(applicant=applicant_create(partner=partner, external_ref=f"Q{i}", actor=None), actor=None)
    few = count()
    for i in range(3, 23):
        case_open(applicant=applicant_create(partner=partner, external_ref=f"Q{i}", actor=None), actor=None)
    assert count() == few


def test_the_effective_routing_is_shown(admin_client, settings):
    settings.KYC_OCR = {
        **settings.KYC_OCR,
        "routes": "hk_id_card=tencent:HKIDCardOCR>local:auto",
        "quotas": "tencent:HKIDCardOCR=5",
    }
    body = admin_client.get(reverse("admin:kyc_providerstate_changelist")).content.decode()
    assert "tencent:HKIDCardOCR</code> (5.0/s) &rarr; <code>local:auto" in body


def test_rerun_action_queues_a_new_run(admin_client, document):
    Document.objects.filter(pk=document.pk).update(status="failed", ocr_run=1)
    admin_client.post(
        reverse("admin:kyc_document_changelist"), {"action": "rerun_ocr", "_selected_action": [document.pk]}
    )
    document.refresh_from_db()
    assert (document.status, document.ocr_run) == ("queued", 2)


def test_a_suspended_provider_is_announced_on_every_admin_page(admin_client):
    from kyc.models import ProviderState

    ProviderState.objects.create(provider="tencent", suspended=True, vendor_code="AuthFailure.SecretIdNotFound")
    for url in (reverse("admin:index"), reverse("admin:kyc_case_changelist")):
        body = admin_client.get(url).content.decode()
        assert "suspended after a configuration error" in body
        assert "AuthFailure.SecretIdNotFound" in body


def test_unknown_outcomes_are_counted_on_the_routing_page(admin_client, document):
    from kyc.models import OcrAttempt

    OcrAttempt.objects.create(document=document, number=1, provider="tencent", action="X", outcome="unknown")
    body = admin_client.get(reverse("admin:kyc_providerstate_changelist")).content.decode()
    assert "unknown: <strong>1</strong>" in body
