"""Private images: only through authenticated views, with an audit event, with protective headers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kyc.models import AuditEvent, Portrait
from kyc.services.documents import document_add
from kyc.storage import private_storage
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(case, reviewer):
    return document_add(case=case, document_type="cn_passport", side="front", data=image_bytes(), actor=reviewer)


def test_anonymous_users_are_sent_to_log_in_and_see_nothing(client, document):
    response = client.get(reverse("document-image", args=[document.pk]))
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not AuditEvent.objects.filter(action="document.image_viewed").exists()


def test_reviewers_get_the_image_with_an_audit_event_and_safe_headers(client, reviewer, document):
    client.force_login(reviewer)
    response = client.get(
        reverse("document-image", args=[document.pk]), {"purpose": "case_review"}, HTTP_X_REQUEST_ID="req-12345678"
    )
    assert response.status_code == 200
    assert response.content[:4] == b"\x89PNG"
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    event = AuditEvent.objects.get(action="document.image_viewed")
    assert (event.actor_repr, event.case_id, event.request_id, event.data) == (
        "reviewer",
        document.case_id,
        "req-12345678",
        {"purpose": "case_review"},
    )


def test_users_without_the_right_get_404_and_the_attempt_is_logged(client, outsider, document):
    client.force_login(outsider)
    response = client.get(reverse("document-image", args=[document.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="document.image_view_denied", actor_repr="outsider").count() == 1


def test_portraits_are_served_the_same_way(client, reviewer, outsider, document):
    name = private_storage().save("portraits/p.jpg", __import__("io").BytesIO(image_bytes("JPEG")))
    portrait = Portrait.objects.create(document=document, image=name, corners=[[0, 0], [9, 0], [9, 9], [0, 9]])
    client.force_login(outsider)
    assert client.get(reverse("portrait-image", args=[portrait.pk])).status_code == 404
    client.force_login(reviewer)
    assert client.get(reverse("portrait-image", args=[portrait.pk])).status_code == 200
    assert AuditEvent.objects.filter(action="portrait.viewed").count() == 1


def test_private_storage_has_no_urls():
    with pytest.raises(NotImplementedError, match="no URL"):
        private_storage().url("documents/x.jpg")
