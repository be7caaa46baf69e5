"""Shared fixtures: users with and without review rights, a partner, an applicant and a case."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from PIL import Image

from kyc.services.cases import applicant_create, case_open, partner_create


def _user(username: str, *codenames: str, staff: bool = True) -> User:
    user = User.objects.create_user(username, password="pw-for-tests-only", is_staff=staff)
    if codenames:
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="kyc", codename__in=codenames))
    return user


@pytest.fixture(autouse=True)
def _audit_flush_bypass(request, django_db_blocker):
    """Transactional tests end with a TRUNCATE flush, which PostgreSQL's append-only audit trigger
    refuses (as it should). The flush runs as the superuser with triggers bypassed, the way a DBA
    would; the bypass is reset before every test so no test ever runs with it."""
    if connection.vendor != "postgresql":
        yield
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("RESET session_replication_role")
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture(autouse=True)
def _fresh_pipeline_state():
    """The pipeline keeps per-process state (provider instances, the suspended-provider cache): every
    test starts and ends without it."""
    from kyc.services import providers

    providers._providers.clear()
    providers.forget_suspended()
    yield
    providers._providers.clear()
    providers.forget_suspended()


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """Each test gets its own private file root, so tests can count what was stored."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": {"location": root}},
    }
    return root


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


REVIEWER_PERMS = ("view_case", "change_case", "view_document", "add_document", "view_extractedfield")


@pytest.fixture
def reviewer(db) -> User:
    return _user("reviewer", *REVIEWER_PERMS)


@pytest.fixture
def second_reviewer(db) -> User:
    return _user("second", *REVIEWER_PERMS)


@pytest.fixture
def outsider(db) -> User:
    """Logged in, staff, but without the right to see documents."""
    return _user("outsider", "view_case")


@pytest.fixture
def partner(db):
    return partner_create(name="Test Securities Ltd", slug="test-sec", actor=None)


@pytest.fixture
def applicant(partner):
    return applicant_create(
        partner=partner,
        external_ref="APP-0001",
        actor=None,
        declared={"name_en": "CHAN, Tai Man", "birth_date": "1990-01-02"},
    )


@pytest.fixture
def case(applicant):
    return case_open(applicant=applicant, actor=None)


def bare_document(case, *, status: str = "received", document_type: str = "hk_id_card"):
    """A document row without an image file, for tests about rows rather than images."""
    from kyc.models import Document

    return Document.objects.create(
        case=case, document_type=document_type, side="front", status=status, image="x.png", width=1, height=1,
        size_bytes=1, original_format="PNG", original_sha256="0" * 64, stored_sha256="0" * 64,
    )  # fmt: skip


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (320, 200), mode: str = "RGB", **save: object) -> bytes:
    """A small synthetic picture (not a document) in any format Pillow writes."""
    image = Image.new(mode, size, "white" if mode in ("RGB", "L") else 0)
    if mode == "RGB":
        for x in range(0, size[0], 8):
            image.putpixel((x, size[1] // 2), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


@pytest.fixture
def png_bytes() -> bytes:
    return image_bytes("PNG")
