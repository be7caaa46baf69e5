"""Personal data at rest: ciphertext in the database, bound to its column, rotatable keys, blind index."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from kyc import crypto
from kyc.models import Applicant, ExtractedField
from kyc.services.documents import blind_index_for, documents_with_number
from tests.conftest import bare_document

pytestmark = pytest.mark.django_db
CANARY_NAME = "CANARY, Plaintext Person"


def _raw_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names from the test
        return cursor.fetchall()


def _document(case, number="A123456(3)"):
    document = bare_document(case)
    ExtractedField.objects.create(
        document=document,
        name="document_number",
        value=number,
        raw=number,
        source="vendor",
        blind_index=blind_index_for("hk_id_card", "document_number", number),
    )
    ExtractedField.objects.create(
        document=document, name="name_en", value=CANARY_NAME, raw=CANARY_NAME, source="vendor"
    )
    ExtractedField.objects.create(
        document=document, name="birth_date", value="1987-06-05", raw="05-06-1987", source="vendor"
    )
    return document


def test_raw_rows_hold_no_plaintext(partner):
    from kyc.services.cases import applicant_create, case_open

    applicant = applicant_create(
        partner=partner,
        external_ref="X-1",
        actor=None,
        declared={"name_en": CANARY_NAME, "birth_date": "1987-06-05", "nationality": "CHN"},
    )
    _document(case_open(applicant=applicant, actor=None))
    dump = repr(_raw_rows("kyc_applicant") + _raw_rows("kyc_extractedfield") + _raw_rows("kyc_auditevent"))
    for secret in ("CANARY", "Plaintext", "1987-06-05", "05-06-1987", "A123456", "CHN"):
        assert secret not in dump
    assert "v1:t1:" in dump  # and the values are there, encrypted with the configured key
    assert Applicant.objects.get(pk=applicant.pk).declared_name_en == CANARY_NAME


def test_ciphertext_moved_to_another_column_does_not_decrypt(case):
    document = _document(case)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE kyc_extractedfield SET raw = value WHERE document_id = %s", [document.pk.hex])
    with pytest.raises(crypto.DecryptionError):
        list(ExtractedField.objects.filter(document=document))


def test_values_written_under_an_old_key_stay_readable_after_rotation(case):
    document = _document(case)
    new_key = base64.b64encode(b"n" * 32).decode()
    with override_settings(KYC_FIELD_KEYS=f"t2:{new_key},t1:dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy4uLi4="):
        ExtractedField.objects.create(document=document, name="sex", value="M", source="vendor")
        values = {f.name: f.value for f in ExtractedField.objects.filter(document=document)}
        assert values["name_en"] == CANARY_NAME
        assert values["sex"] == "M"
        key_ids = {crypto.key_id_of(row[0]) for row in _select("SELECT value FROM kyc_extractedfield")}
    assert key_ids == {"t1", "t2"}


def _select(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_encrypted_fields_refuse_lookups_that_would_silently_fail():
    with pytest.raises(TypeError, match="blind index"):
        ExtractedField.objects.filter(value="A123456(3)")


@pytest.mark.parametrize(
    "spelling", ["A123456(3)", "a123456(3)", "A 123456 3", "A1234563", "A123456-3", " A123456 (3) "]
)
def test_blind_index_finds_a_number_in_any_spelling(case, spelling):
    document = _document(case, "A123456(3)")
    _document(case, "B987654(6)")
    assert list(documents_with_number("hk_id_card", spelling)) == [document]


def test_blind_index_differs_by_key_and_namespace():
    first = crypto.blind_index("hkid", "A1234563")
    assert first != crypto.blind_index("cn_passport", "A1234563")
    with override_settings(KYC_BLIND_INDEX_KEY="another-key-entirely-0123456789"):
        assert crypto.blind_index("hkid", "A1234563") != first


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "holds no key"),
        ("nokey", "keyid:base64"),
        ("k1:not base64!", "not valid base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "must be 32 bytes"),
    ],
)
def test_bad_key_configuration_is_refused_clearly(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_keys(spec)
