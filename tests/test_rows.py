"""kyc.rows writes rows exactly as the ORM would: same stored bytes, same stamps, same failures."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kyc.models import Check, Document, ExtractedField, OcrAttempt
from kyc.rows import insert_rows, update_row
from tests.conftest import bare_document

pytestmark = pytest.mark.django_db


def _stored(model, pk, *columns):
    """The raw column values in the database, as the driver returns them (ciphertext stays ciphertext)."""
    quote = connection.ops.quote_name
    table, key = model._meta.db_table, model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE {quote(key.column)} = %s",  # noqa: S608
            [key.get_db_prep_value(pk, connection)],
        )
        return cursor.fetchone()


def test_insert_reads_back_keys_and_stamps_like_the_orm(case):
    document = bare_document(case)
    attempt = OcrAttempt(document=document, number=1, run=1, route_step=0, provider="tencent", action="PermitOCR")
    orm = OcrAttempt.objects.create(document=document, number=2, run=1, route_step=0, provider="t", action="A")
    with CaptureQueriesContext(connection) as queries:
        insert_rows([attempt])
    assert len(queries) == 1
    assert attempt.pk is not None
    assert attempt.pk != orm.pk
    assert not attempt._state.adding
    stored = OcrAttempt.objects.get(pk=attempt.pk)
    assert stored.started_at is not None
    assert stored.started_at == attempt.started_at
    assert (stored.number, stored.provider, stored.action, stored.outcome) == (1, "tencent", "PermitOCR", orm.outcome)


def test_insert_many_in_one_statement_with_encrypted_and_json_values(case):
    document = bare_document(case)
    attempt = OcrAttempt.objects.create(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    rows = [
        ExtractedField(
            document=document, attempt=attempt, name="name_zh", value="陳大文", raw="陳大文", confidence=0.9
        ),
        ExtractedField(
            document=document, attempt=attempt, name="birth_date", value=datetime.date(1990, 1, 2).isoformat()
        ),
    ]
    checks = [
        Check(case=case, document=document, attempt=attempt, code="hkid_check_digit", result="fail", detail="x",
              data={"expected": "A", "nested": [1, {"k": None}]}),
        Check(case=case, document=document, attempt=attempt, code="dates_plausible", result="pass", detail="y"),
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        insert_rows(rows)
        insert_rows(checks)
    assert len(queries) == 2
    assert len({r.pk for r in rows}) == 2
    assert None not in {r.pk for r in rows}
    read = {f.name: f for f in ExtractedField.objects.filter(document=document)}
    assert read["name_zh"].value == "陳大文"
    assert read["name_zh"].raw == "陳大文"
    assert read["name_zh"].confidence == 0.9
    assert read["birth_date"].raw is None
    assert read["birth_date"].is_current
    (ciphertext,) = _stored(ExtractedField, rows[0].pk, "value")
    assert "陳" not in ciphertext
    assert ciphertext.startswith("v1:")
    assert Check.objects.get(pk=checks[0].pk).data == {"expected": "A", "nested": [1, {"k": None}]}
    assert Check.objects.get(pk=checks[1].pk).data == {}


def test_insert_of_nothing_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        insert_rows([])
    assert len(queries) == 0


def test_insert_fails_like_the_orm_on_a_constraint(case):
    document = bare_document(case)
    OcrAttempt.objects.create(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    duplicate = OcrAttempt(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    with pytest.raises(DatabaseError):
        insert_rows([duplicate])


def test_update_writes_only_the_named_fields_and_stamps_auto_now(case):
    document = bare_document(case)
    before = document.updated_at
    document.status, document.status_reason = "queued", "because"
    document.width = 999  # changed in memory, not named: must stay as stored
    with CaptureQueriesContext(connection) as queries:
        update_row(document, ["status", "status_reason", "updated_at"])
    assert len(queries) == 1
    stored = Document.objects.get(pk=document.pk)
    assert (stored.status, stored.status_reason, stored.width) == ("queued", "because", 1)
    assert stored.updated_at == document.updated_at
    assert stored.updated_at > before


def test_update_of_a_missing_row_raises_like_save_with_update_fields(case):
    document = bare_document(case)
    ghost = Document(pk=uuid.uuid4(), case=case, status="queued")
    with pytest.raises(DatabaseError, match="affected no row"), transaction.atomic():
        update_row(ghost, ["status"])
    with pytest.raises(DatabaseError), transaction.atomic():
        ghost.save(update_fields=["status"])  # the behaviour it replaces
    assert Document.objects.get(pk=document.pk).status == "received"


def test_rows_read_back_equal_what_the_orm_loads(case):
    """Through the pipeline's own joined read (document, case, applicant, partner: kyc.services.ocr)."""
    from kyc.models import Applicant, Case, Partner
    from kyc.services.ocr import _lock_for_finish

    document = bare_document(case)
    Document.objects.filter(pk=document.pk).update(ocr_next_at=document.created_at, ocr_run=3)
    read_document = _lock_for_finish(document.pk)
    read_case = read_document.case
    read_applicant = read_case.applicant
    read_partner = read_applicant.partner
    pairs = ((Document, read_document), (Case, read_case), (Applicant, read_applicant), (Partner, read_partner))
    for model, read in pairs:
        loaded = model.objects.get(pk=read.pk)
        for field in model._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(loaded, field.attname), field.name
        assert not read._state.adding
    assert read_applicant.declared_name_en == "CHAN, Tai Man"  # decrypted
    assert read_document.ocr_next_at.tzinfo is not None  # aware, on SQLite too
    assert isinstance(read_document.pk, uuid.UUID)
    assert read_document.ocr_run == 3


def test_routing_reads_equal_the_orm_queries_they_replace(case):
    """The case's documents (partial instances, oldest first) and its failing checks, as the ORM reads them."""
    from kyc.services.routing import _documents, _failing_checks

    first = bare_document(case, status="extracted")
    second = bare_document(case, status="queued", document_type="exit_entry_permit")
    third = bare_document(case, status="failed")
    Document.objects.filter(pk=first.pk).update(ocr_run=2)
    checks = [("hkid_check_digit", "fail"), ("expiry", "warn"), ("dates", "pass"), ("mrz", "not_available")]
    for code, result in checks:
        Check.objects.create(case=case, document=first, code=code, result=result, detail="d")
    Check.objects.create(case=case, document=first, code="old", result="fail", detail="d", is_current=False)
    read = _documents(case, full=False)
    orm = list(case.documents.order_by("created_at", "id"))
    assert [d.pk for d in read] == [d.pk for d in orm]
    assert {first.pk, second.pk, third.pk} <= {d.pk for d in read}
    for document, loaded in zip(read, orm, strict=True):
        assert (document.case_id, document.document_type, document.side, document.status, document.ocr_run) == (
            loaded.case_id, loaded.document_type, loaded.side, loaded.status, loaded.ocr_run,
        )  # fmt: skip
        assert isinstance(document.pk, uuid.UUID)
        assert not document._state.adding
    assert _failing_checks(case) == ["expiry (warn)", "hkid_check_digit (fail)"]
