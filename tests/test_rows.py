"""kyc.rows writes rows exactly as the ORM would: same stored bytes, same stamps, same failures."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kyc.models import AuditEvent, Check, Document, ExtractedField, OcrAttempt
from kyc.rows import insert_rows, update_row
from tests.conftest import bare_document
from tests.support import RoundTrips

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


def test_many_rows_go_in_statements_psycopg_keeps_parsed_on_postgresql_and_in_one_elsewhere(case):
    """psycopg parses a statement's placeholders again on every execute unless it has at most 50
    parameters and 4096 bytes: on PostgreSQL a long insert is cut into statements within both, each
    object still getting its own row's key, in order."""
    from kyc.rows import CACHED_STATEMENT_LENGTH, CACHED_STATEMENT_PARAMS

    document = bare_document(case)
    attempt = OcrAttempt.objects.create(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    rows = [ExtractedField(document=document, attempt=attempt, name=f"f{n:02}", value=f"v{n}") for n in range(20)]
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, len(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        insert_rows(rows)
    width = len([f for f in ExtractedField._meta.concrete_fields if not f.primary_key])  # 13 today
    if connection.vendor == "postgresql":
        assert len(sent) == -(-20 // (CACHED_STATEMENT_PARAMS // width))  # 7 statements of 3 rows today
        assert all(count <= CACHED_STATEMENT_PARAMS and len(sql) <= CACHED_STATEMENT_LENGTH for sql, count in sent)
        assert sum(count for _, count in sent) == 20 * width
    else:
        assert [count for _, count in sent] == [20 * width]
    stored = dict(ExtractedField.objects.filter(document=document).values_list("pk", "name"))
    assert {r.pk: r.name for r in rows} == stored
    assert all(not r._state.adding for r in rows)
    assert ExtractedField.objects.get(pk=rows[13].pk).value == "v13"


def test_rows_inserted_several_at_a_time_store_exactly_what_the_orm_stores_one_by_one(case):
    """Every column of the rows a job inserts several at a time (fields, checks, audit events), with values
    of each kind a job puts there and a column that is NULL in every row: the stored values equal those of
    the same rows saved one by one by the ORM (ciphertexts compared decrypted, their nonces differ;
    creation stamps set, each path stamps its own time)."""
    from kyc.fields import EncryptedTextField

    document = bare_document(case)
    attempt = OcrAttempt.objects.create(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    at = datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)

    def twins(tag):
        return [
            [
                ExtractedField(document=document, attempt=attempt, name=f"{tag}name_zh", value="陳大文", raw="陳 大文",
                               confidence=0.97, source="vendor", blind_index="ab" * 32),
                ExtractedField(document=document, attempt=None, name=f"{tag}sex", value="", raw=None, confidence=None,
                               source="machine_code", is_current=False, reason="corrected"),
            ],
            [
                Check(case=case, document=document, attempt=attempt, code=f"{tag}a", result="fail", detail="日期 x",
                      data={"expected": "A", "nested": [1, 2.5, {"k": None, "t": True}]}),
                Check(case=case, document=None, attempt=None, code=f"{tag}b", result="pass", detail="", data={},
                      is_current=False),
            ],
            [
                AuditEvent(chain=9, seq=(1, 3)[i] + (tag == "b"), created_at=at, actor=None, actor_repr="system",
                           action="x.y", object_type="document", object_id=str(document.pk),
                           case_id=None if i else case.pk, request_id="", data={"to": "queued", "n": [i, None]},
                           prev_hash="0" * 64, hash=f"{tag}{i}".ljust(64, "0"))
                for i in (0, 1)
            ],
        ]  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        for rows in twins("a"):
            insert_rows(rows)
    assert len(queries) == 3  # one statement per model
    for rows in twins("b"):
        for obj in rows:
            obj.save()
    for model in (ExtractedField, Check, AuditEvent):
        columns = [f for f in model._meta.concrete_fields if not f.primary_key]
        stamped = [f.column for f in columns if getattr(f, "auto_now_add", False)]  # now, on either path
        plain = [f.column for f in columns if not isinstance(f, EncryptedTextField) and f.column not in stamped]
        encrypted = [f.attname for f in columns if isinstance(f, EncryptedTextField)]
        key = {ExtractedField: "name", Check: "code", AuditEvent: "seq"}[model]
        stored = sorted(
            model.objects.filter(**({"chain": 9} if model is AuditEvent else {})), key=lambda o: str(getattr(o, key))
        )
        if model is AuditEvent:
            # seq 1 (inserted together) with 2 (saved one by one), 3 with 4
            pairs = [(stored[0], stored[1]), (stored[2], stored[3])]
        else:
            mine = [o for o in stored if getattr(o, key).startswith("a")]
            pairs = [(o, next(t for t in stored if getattr(t, key) == "b" + getattr(o, key)[1:])) for o in mine]
        assert len(pairs) == 2, model.__name__
        for sent, saved in pairs:
            raw_sent, raw_saved = _stored(model, sent.pk, *plain), _stored(model, saved.pk, *plain)
            differ = {c for c, x, y in zip(plain, raw_sent, raw_saved, strict=True) if x != y}
            assert differ <= {"name", "code", "seq", "hash"}, (model.__name__, differ)
            assert [getattr(sent, a) for a in encrypted] == [getattr(saved, a) for a in encrypted], model.__name__
            assert not stamped or None not in _stored(model, sent.pk, *stamped)
    assert ExtractedField.objects.get(name="asex").confidence is None
    assert Check.objects.get(code="aa").data == {"expected": "A", "nested": [1, 2.5, {"k": None, "t": True}]}


def test_new_builds_what_the_constructor_builds_from_column_attributes(case):
    from kyc.rows import new

    document = bare_document(case)
    attempt = OcrAttempt.objects.create(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    given = {"name": "name_zh", "value": "陳大文", "confidence": 0.5, "source": "vendor", "blind_index": "ab"}
    built = new(ExtractedField, document_id=document.pk, attempt_id=attempt.pk, **given)
    orm = ExtractedField(document=document, attempt=attempt, **given)
    names = [f.attname for f in ExtractedField._meta.concrete_fields]
    assert [getattr(built, n) for n in names] == [getattr(orm, n) for n in names]  # defaults included
    assert built._state.adding
    assert built.is_current is True
    insert_rows([built])
    assert ExtractedField.objects.get(pk=built.pk).value == "陳大文"
    with pytest.raises(TypeError, match="document"):
        new(ExtractedField, document=document)  # a related object, not its key: refused, not ignored


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
    """Through the pipeline's own joined read (document, case, applicant, partner: kyc.services.ocr_finish)."""
    from kyc.models import Applicant, Case, Partner
    from kyc.services.ocr_finish import _lock_for_finish

    document = bare_document(case)
    Document.objects.filter(pk=document.pk).update(ocr_next_at=document.created_at, ocr_run=3)
    read_document, _ = _lock_for_finish(document.pk, document.case_id)
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
    from kyc.services.routing import _read

    first = bare_document(case, status="extracted")
    second = bare_document(case, status="queued", document_type="exit_entry_permit")
    third = bare_document(case, status="failed")
    Document.objects.filter(pk=first.pk).update(ocr_run=2)
    checks = [("hkid_check_digit", "fail"), ("expiry", "warn"), ("dates", "pass"), ("mrz", "not_available")]
    for code, result in checks:
        Check.objects.create(case=case, document=first, code=code, result=result, detail="d")
    Check.objects.create(case=case, document=first, code="old", result="fail", detail="d", is_current=False)
    read, failing = _read(case, full=False)
    orm = list(case.documents.order_by("created_at", "id"))
    assert [d.pk for d in read] == [d.pk for d in orm]
    assert {first.pk, second.pk, third.pk} <= {d.pk for d in read}
    for document, loaded in zip(read, orm, strict=True):
        assert (document.case_id, document.document_type, document.side, document.status, document.ocr_run) == (
            loaded.case_id, loaded.document_type, loaded.side, loaded.status, loaded.ocr_run,
        )  # fmt: skip
        assert isinstance(document.pk, uuid.UUID)
        assert not document._state.adding
    assert failing == ["expiry (warn)", "hkid_check_digit (fail)"]


# --- deferred writes --------------------------------------------------------------------------------------


class _PipelineSpy:
    """Counts psycopg pipelines opened on the connection and the statements sent while one is open
    (observes the real driver; changes nothing)."""

    def __init__(self, monkeypatch):
        self.opened, self.statements, self._open = 0, 0, False
        raw = connection.connection
        original = type(raw).pipeline

        def pipeline(conn):
            self.opened += 1
            manager = original(conn)
            spy = self

            class Counting:
                def __enter__(self):
                    spy._open = True
                    return manager.__enter__()

                def __exit__(self, *exc):
                    try:
                        return manager.__exit__(*exc)
                    finally:
                        spy._open = False

            return Counting()

        monkeypatch.setattr(type(raw), "pipeline", pipeline)

    def __call__(self, execute, sql, params, many, context):
        self.statements += self._open
        return execute(sql, params, many, context)


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's (elsewhere the block sends each write at once)")


def _spied_document(case, monkeypatch):
    """On PostgreSQL (else the test is skipped): a document of ``case``, and a spy on the connection's
    pipelines."""
    _postgres_only()
    document = bare_document(case)
    connection.ensure_connection()
    return document, _PipelineSpy(monkeypatch)


def _document_with_attempt(case):
    """On PostgreSQL (else the test is skipped): a document of ``case`` and one attempt of it."""
    _postgres_only()
    document = bare_document(case)
    return document, OcrAttempt.objects.create(
        document=document, number=1, run=1, route_step=0, provider="t", action="A"
    )


@pytest.mark.django_db(transaction=True)
def test_deferred_writes_go_out_together_in_program_order(case, monkeypatch):
    from kyc.rows import deferred_writes, fetch

    document, attempt = _document_with_attempt(case)
    connection.ensure_connection()
    spy = _PipelineSpy(monkeypatch)
    with transaction.atomic(), connection.execute_wrapper(spy), deferred_writes():
        with CaptureQueriesContext(connection) as queries:
            document.status = "queued"
            update_row(document, ["status"])
            document.status = "processing"
            update_row(document, ["status"])  # the same row twice: the second wins, as sent one by one
            attempt.latency_ms = 7
            update_row(attempt, ["latency_ms"])
            fields = [ExtractedField(document=document, attempt=attempt, name=n, value="v") for n in ("a", "b")]
            insert_rows(fields, keys=False)
        assert len(queries) == 0  # nothing sent yet
        # a read sends what waits first, in the same round trip, and sees it
        sql = f"SELECT status FROM {connection.ops.quote_name(Document._meta.db_table)} WHERE id = %s"  # noqa: S608
        assert fetch(sql, [Document._meta.pk.get_db_prep_value(document.pk, connection)]) == [("processing",)]
        assert (spy.opened, spy.statements) == (1, 5)
        check = Check(case=case, document=document, attempt=attempt, code="c", result="pass", detail="d")
        insert_rows([check], keys=False)
        document.status = "extracted"
        update_row(document, ["status"])
    assert (spy.opened, spy.statements) == (2, 7)  # the rest at the end of the block, in one more pipeline
    assert Document.objects.get(pk=document.pk).status == "extracted"
    assert OcrAttempt.objects.get(pk=attempt.pk).latency_ms == 7
    assert sorted(ExtractedField.objects.filter(document=document).values_list("name", flat=True)) == ["a", "b"]
    assert Check.objects.filter(document=document, code="c").count() == 1
    assert all(not f._state.adding for f in [*fields, check])


@pytest.mark.django_db(transaction=True)
def test_an_insert_that_reads_its_keys_back_waits_too_and_has_them_once_sent(case, monkeypatch):
    from kyc.rows import deferred_writes, send_pending

    document, spy = _spied_document(case, monkeypatch)
    with transaction.atomic(), connection.execute_wrapper(spy), deferred_writes():
        attempts = [
            OcrAttempt(document=document, number=n, run=1, route_step=0, provider="t", action="A") for n in (1, 2)
        ]
        insert_rows(attempts)
        document.status = "processing"
        update_row(document, ["status"])
        assert ([a.pk for a in attempts], spy.opened) == ([None, None], 0)  # not sent yet
        send_pending()
        assert (spy.opened, spy.statements) == (1, 2)  # the insert and the update together
        stored = dict(OcrAttempt.objects.filter(document=document).values_list("number", "pk"))
        assert stored == {1: attempts[0].pk, 2: attempts[1].pk}  # each object has its own row's key
        assert all(not a._state.adding for a in attempts)


@pytest.mark.django_db(transaction=True)
def test_a_read_that_fails_with_the_writes_waiting_before_it_rolls_them_back(case):
    """``fetch`` sends the writes waiting before it in its round trip: when it fails, they go with it, and
    the connection goes on."""
    from django.db import ProgrammingError

    from kyc.rows import deferred_writes, fetch

    _postgres_only()
    document = bare_document(case)
    table = connection.ops.quote_name(Document._meta.db_table)

    def write_then_fail(status: str, column: str) -> list:
        with transaction.atomic(), deferred_writes():
            document.status = status
            update_row(document, ["status"])
            return fetch(f"SELECT {column} FROM {table} WHERE id = %s", [document.pk])  # noqa: S608

    with pytest.raises(ProgrammingError):
        write_then_fail("queued", "no_such_column")
    assert Document.objects.get(pk=document.pk).status == "received"  # the update went with the read
    assert write_then_fail("processing", "status") == [("processing",)]
    assert Document.objects.get(pk=document.pk).status == "processing"


def _other_connection_sees(sql: str, params: list) -> list:
    """What a second connection (another worker) reads: only what has been committed."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as other:
        return other.execute(sql, params).fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_writes_left_at_the_end_of_a_committing_block_go_out_with_the_commit(case, monkeypatch):
    from psycopg.pq import TransactionStatus

    from kyc.rows import deferred_writes

    document, attempt = _document_with_attempt(case)
    connection.ensure_connection()
    spy, hooks = _PipelineSpy(monkeypatch), []
    table = connection.ops.quote_name(ExtractedField._meta.db_table)
    with transaction.atomic():
        with connection.execute_wrapper(spy), deferred_writes(commit=True):
            insert_rows([ExtractedField(document=document, attempt=attempt, name="a", value="v")], keys=False)
            transaction.on_commit(lambda: hooks.append("committed"))
        # committed in the block's last round trip: another connection sees the row, the atomic block has
        # nothing left to send, and its commit hooks have not run yet
        assert (spy.opened, spy.statements) == (1, 1)
        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
        assert _other_connection_sees(f"SELECT name FROM {table} WHERE attempt_id = %s", [attempt.pk]) == [("a",)]  # noqa: S608
        assert hooks == []
    assert hooks == ["committed"]
    assert ExtractedField.objects.filter(attempt=attempt).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("why", ["an update to check", "an enclosing transaction", "marked for rollback"])
def test_a_committing_block_leaves_the_commit_to_django_when_it_must(case, why):
    from psycopg.pq import TransactionStatus

    from kyc.rows import deferred_writes

    document, attempt = _document_with_attempt(case)
    after_block = []

    def block() -> None:
        with transaction.atomic():
            with deferred_writes(commit=True):
                insert_rows([ExtractedField(document=document, attempt=attempt, name="a", value="v")], keys=False)
                if why == "an update to check":  # it must have found its row before anything commits
                    document.status = "queued"
                    update_row(document, ["status"])
                elif why == "marked for rollback":
                    transaction.set_rollback(True)
            after_block.append(connection.connection.info.transaction_status)

    if why == "an enclosing transaction":
        with transaction.atomic():
            block()
            transaction.set_rollback(True)  # the caller's transaction decides: here it rolls back
    else:
        block()
    if why != "marked for rollback":  # (there nothing was sent at all: the waiting insert was dropped)
        assert after_block[0] == TransactionStatus.INTRANS  # not committed by the block
    stored = ExtractedField.objects.filter(attempt=attempt).exists()
    assert stored is (why == "an update to check")  # committed by Django, or rolled back as asked


def _insert_twice(document, attempt) -> None:
    from kyc.rows import deferred_writes

    with transaction.atomic(), deferred_writes(commit=True):
        insert_rows([ExtractedField(document=document, attempt=attempt, name="b", value="v")], keys=False)
        twice = [ExtractedField(document=document, attempt=attempt, name="a", value=v) for v in "12"]
        insert_rows(twice, keys=False)  # one_current_value_per_field refuses the second


@pytest.mark.django_db(transaction=True)
def test_a_write_that_fails_with_the_commit_raises_and_commits_nothing(case):
    from django.db import IntegrityError

    document, attempt = _document_with_attempt(case)
    with pytest.raises(IntegrityError):
        _insert_twice(document, attempt)
    assert not ExtractedField.objects.filter(attempt=attempt).exists()  # the first insert went with it
    assert Document.objects.filter(pk=document.pk).exists()  # and the connection still works


@pytest.mark.django_db(transaction=True)
def test_a_deferred_write_that_fails_raises_at_the_latest_when_the_block_ends(case):
    from django.db import IntegrityError

    from kyc.rows import deferred_writes

    document, attempt = _document_with_attempt(case)
    ghost = Document(pk=uuid.uuid4(), case=case, status="queued")

    def update_then_update_a_missing_row():
        with transaction.atomic(), deferred_writes():
            document.status = "queued"
            update_row(document, ["status"])
            update_row(ghost, ["status"])

    with pytest.raises(DatabaseError, match="affected no row"):
        update_then_update_a_missing_row()
    assert Document.objects.get(pk=document.pk).status == "received"  # the transaction rolled back whole

    def update_then_insert_two_current_values():  # one_current_value_per_field refuses the second
        with transaction.atomic(), deferred_writes():
            update_row(document, ["status"])
            twice = [ExtractedField(document=document, attempt=attempt, name="a", value=v) for v in "12"]
            insert_rows(twice, keys=False)

    with pytest.raises(IntegrityError):  # Django's error class, as when sent one at a time
        update_then_insert_two_current_values()
    assert not ExtractedField.objects.filter(document=document).exists()


def test_outside_postgresql_deferred_writes_send_each_write_at_once(case):
    from kyc.rows import deferred_writes

    if connection.vendor == "postgresql":
        pytest.skip("the SQLite behaviour")
    document = bare_document(case)
    with transaction.atomic(), deferred_writes(), CaptureQueriesContext(connection) as queries:
        document.status = "queued"
        update_row(document, ["status"])
        assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_reads_go_out_with_the_writes_waiting_before_them_and_see_them(case, monkeypatch):
    from kyc.rows import deferred_writes, fetch_together

    document, spy = _spied_document(case, monkeypatch)
    table = connection.ops.quote_name(Document._meta.db_table)
    key = Document._meta.pk.get_db_prep_value(document.pk, connection)
    with transaction.atomic(), connection.execute_wrapper(spy), deferred_writes():
        document.status = "queued"
        update_row(document, ["status"])
        status, queued = fetch_together(
            [
                (f"SELECT status FROM {table} WHERE id = %s", [key]),  # noqa: S608
                (f"SELECT count(*) FROM {table} WHERE status = %s", ["queued"]),  # noqa: S608
            ]
        )
    assert (status, queued) == ([("queued",)], [(1,)])
    assert (spy.opened, spy.statements) == (1, 3)  # the update and both reads, one round trip


@pytest.mark.django_db(transaction=True)
def test_every_statement_of_a_round_trip_is_seen_by_the_query_log_and_by_cursor_instrumentation(case, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    from kyc.rows import deferred_writes, fetch_together

    document, spy = _spied_document(case, monkeypatch)
    instrumented = []  # what an APM that patches Django's cursor wrapper (as Sentry's does) records
    execute = CursorWrapper.execute

    def patched(self, sql, params=None):
        instrumented.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", patched)
    table = connection.ops.quote_name(Document._meta.db_table)
    key = Document._meta.pk.get_db_prep_value(document.pk, connection)
    read = f"SELECT status FROM {table} WHERE id = %s"  # noqa: S608
    with (
        transaction.atomic(),
        connection.execute_wrapper(spy),
        deferred_writes(),
        CaptureQueriesContext(connection) as queries,
    ):
        document.status = "queued"
        update_row(document, ["status"])
        document.status = "processing"
        update_row(document, ["status"])
        (status,) = fetch_together([(read, [key])])
    assert status == [("processing",)]
    assert (spy.opened, spy.statements) == (1, 3)
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE", "UPDATE", "SELECT"]
    assert [sql.split()[0] for sql in instrumented] == ["UPDATE", "UPDATE", "SELECT"]


@pytest.mark.django_db(transaction=True)
def test_an_audit_append_takes_its_chain_lock_with_the_writes_waiting_before_it(case, monkeypatch):
    """The chain's lock, its head read and the transaction's waiting writes in one round trip; the chain
    stays whole."""
    from kyc.rows import deferred_writes
    from kyc.services.audit import audit_record, audit_verify

    document, spy = _spied_document(case, monkeypatch)
    with transaction.atomic(), connection.execute_wrapper(spy), deferred_writes():
        document.status = "queued"
        update_row(document, ["status"])
        first = audit_record(actor=None, action="document.test_changed", obj=document, case_id=case.pk, data={})
        assert (spy.opened, spy.statements) == (1, 3)  # the update, the chain's lock, its head
        second = audit_record(actor=None, action="document.test_changed_again", obj=document, case_id=case.pk)
        assert (spy.opened, spy.statements, first.pk, second.pk) == (1, 3, None, None)  # no lock or read again
    # both events' inserts at the end of the block, in one more round trip, and their keys read back
    assert (spy.opened, spy.statements) == (2, 5)
    assert AuditEvent.objects.get(pk=first.pk).action == "document.test_changed"
    assert AuditEvent.objects.get(pk=second.pk).seq == first.seq + 1
    assert Document.objects.get(pk=document.pk).status == "queued"
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_batch_can_take_its_chain_lock_and_head_ahead_with_the_next_round_trip(case, monkeypatch):
    """``audit_chain_ahead``: the chain's lock and head go out with the next statements (here a read), so
    the batch's end only writes its events, with the case's locked update, in the COMMIT's round trip."""
    from kyc.models import Case
    from kyc.rows import deferred_writes, fetch
    from kyc.services.audit import audit_batch, audit_chain_ahead, audit_record, audit_verify

    _postgres_only()
    audit_record(actor=None, action="case.test_before", obj=case, case_id=case.pk)  # the chain has a head
    document = bare_document(case)
    table = connection.ops.quote_name(Document._meta.db_table)
    connection.ensure_connection()
    with RoundTrips() as trips, transaction.atomic(), deferred_writes(commit=True), audit_batch():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        audit_chain_ahead(case.pk)
        document.status = "queued"
        update_row(document, ["status"])
        rows = fetch(f"SELECT status FROM {table} WHERE id = %s", [document.pk])  # noqa: S608
        assert rows == [("queued",)]
        locked.routing_reason = "test"
        update_row(locked, ["routing_reason"], locked=True)  # no answer to check: goes with the COMMIT
        audit_record(actor=None, action="document.test_changed", obj=document, case_id=case.pk)
        audit_record(actor=None, action="case.test_changed", obj=locked, case_id=case.pk)
    sent = trips.trips()
    # BEGIN (the ORM's); the case's lock; the write, chain lock, head and read; the rest with the COMMIT
    assert len(sent) == 4, [[message[:50] for message in trip] for trip in sent]
    assert any("pg_advisory_xact_lock" in message for message in sent[2])
    assert not any("pg_advisory_xact_lock" in message for message in sent[3])
    assert any("COMMIT" in message for message in sent[3])
    assert any("UPDATE" in message for message in sent[3])
    before = AuditEvent.objects.get(action="case.test_before")
    events = list(AuditEvent.objects.filter(chain=before.chain, seq__gt=before.seq).order_by("seq"))
    assert [e.action for e in events] == ["document.test_changed", "case.test_changed"]
    assert [e.seq for e in events] == [before.seq + 1, before.seq + 2]
    assert events[0].prev_hash == before.hash
    assert Case.objects.get(pk=case.pk).routing_reason == "test"
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_chain_taken_ahead_is_the_chain_of_every_event_and_rolls_back_with_a_savepoint(case):
    """The chain taken ahead is the transaction's (an event keyed otherwise still goes to it), and a lock
    and head taken in a savepoint that rolled back are taken again (PostgreSQL releases a lock taken in a
    savepoint with it)."""
    from kyc.rows import deferred_writes, send_pending
    from kyc.services.audit import audit_batch, audit_chain_ahead, audit_record, audit_verify

    _postgres_only()
    document = bare_document(case)
    connection.ensure_connection()
    with RoundTrips() as trips, transaction.atomic(), deferred_writes(), audit_batch():
        with transaction.atomic():  # a savepoint
            audit_chain_ahead(case.pk)
            send_pending()  # the chain's lock and head read go out here, and are rolled back below
            transaction.set_rollback(True)
        audit_record(actor=None, action="document.test_other_key", obj=document)  # no case: keyed by document
    # the lock went with the savepoint (PostgreSQL releases it there): the batch took it again
    assert sum("pg_advisory_xact_lock" in message for message in trips.sent) == 2
    event = AuditEvent.objects.get(action="document.test_other_key")
    assert event.chain == AuditEvent.objects.filter(case_id=case.pk).first().chain
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_writes_still_waiting_when_an_exception_leaves_the_block_roll_the_transaction_back(case):
    """A caller that catches the exception inside its transaction cannot commit without the writes."""
    from kyc.rows import deferred_writes

    _postgres_only()
    document = bare_document(case)

    def fail_with_a_write_waiting():
        with deferred_writes():
            document.status = "queued"
            update_row(document, ["status"])
            raise ValueError("a bug after the write")

    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(width=5)
        with pytest.raises(ValueError, match="a bug"):
            fail_with_a_write_waiting()
    stored = Document.objects.get(pk=document.pk)
    assert (stored.status, stored.width) == ("received", 1)  # neither the write nor the rest committed


@pytest.mark.django_db
def test_values_are_prepared_exactly_as_the_orm_prepares_them(case):
    """``prepared`` skips the ORM's call chain only where it returns the attribute itself: for every column of
    the rows a job writes, with values of the types a job puts there and of other types, the result is
    ``get_db_prep_save(pre_save(obj, add))`` (the auto_now stamps and the ciphertexts aside, new on every
    call)."""
    from django.db import connections

    from kyc.fields import EncryptedTextField
    from kyc.rows import _as_is_types, _insert_columns, prepared

    db = connections["default"]
    document = bare_document(case)
    attempt = OcrAttempt.objects.create(document=document, number=1, run=1, provider="scripted", action="HKID")
    rows = [
        ExtractedField(
            document=document, attempt=attempt, name="name_en", value="CHAN, Tai Man", raw="CHAN TAI MAN",
            confidence=0.97, source="ocr", blind_index="ab" * 32, is_current=True, reason="",
        ),
        ExtractedField(document=document, attempt=None, name="sex", value="", confidence=1, source="ocr"),
        Check(case=case, document=document, attempt=attempt, code="hkid_check_digit", result="pass",
              detail="ok", data={"n": 1}, is_current=1),
        AuditEvent(chain=3, seq=7, created_at=datetime.datetime.now(datetime.UTC), actor=None, actor_repr="system",
                   action="document.status_changed", object_type="document", object_id=str(document.pk),
                   case_id=case.pk, request_id="", data={"to": "queued"}, prev_hash="0" * 64, hash="1" * 64),
        attempt,
    ]  # fmt: skip
    fast = 0
    for obj in rows:
        columns = tuple(
            f
            for f in _insert_columns(type(obj))
            if not getattr(f, "auto_now_add", False) and not isinstance(f, EncryptedTextField)  # random nonce
        )
        for add in (True, False):
            expected = _comparable([f.get_db_prep_save(f.pre_save(obj, add), db) for f in columns])
            got = _comparable(prepared(obj, columns, add=add, db=db))
            assert got == expected, type(obj).__name__
            assert [type(v) for v in got] == [type(v) for v in expected], type(obj).__name__
        fast += sum(1 for f in columns if _as_is_types(f))
        encrypted = [f for f in _insert_columns(type(obj)) if isinstance(f, EncryptedTextField)]
        assert not [f.name for f in encrypted if _as_is_types(f)]  # a TextField subclass: always encrypted
    assert fast >= 15  # the text, flag and float columns take the short way


def _comparable(values):
    """psycopg's JSON wrappers compare by identity: compare what they wrap."""
    return [("json", type(v).__name__, v.obj) if hasattr(v, "obj") and hasattr(v, "dumps") else v for v in values]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_starts_in_the_round_trip_of_its_first_statements(case):
    """psycopg would send the BEGIN in a round trip of its own (kyc.rows._begin_in): here the BEGIN goes
    with the first statements, every statement after it runs in that one transaction, and a later round
    trip of the same transaction sends no second BEGIN."""
    from kyc.rows import deferred_writes, fetch_together

    _postgres_only()
    xid = "SELECT pg_current_xact_id()::text"
    connection.ensure_connection()
    with RoundTrips() as trips, transaction.atomic(), deferred_writes():
        first, second = fetch_together([(xid, []), (xid, [])])
        third, _ = fetch_together([(xid, []), ("SELECT 1", [])])
    assert first == second == third
    assert trips.count == 3, trips.trips()  # two pipelines and Django's COMMIT
    begins = [sum('"BEGIN"' in message for message in trip) for trip in trips.trips()]
    assert begins == [1, 0, 0]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_started_with_its_first_statements_keeps_the_connections_isolation_level(case):
    from psycopg import IsolationLevel

    from kyc.rows import deferred_writes, fetch_together

    _postgres_only()
    connection.ensure_connection()
    raw = connection.connection
    raw.isolation_level = IsolationLevel.SERIALIZABLE  # what OPTIONS["isolation_level"] sets
    try:
        with transaction.atomic(), deferred_writes():
            (level, _) = fetch_together([("SHOW transaction_isolation", []), ("SELECT 1", [])])
    finally:
        raw.isolation_level = None
    assert level == [("serializable",)]


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_round_trip_that_began_the_transaction_rolls_all_of_it_back(case):
    from django.db import IntegrityError
    from psycopg.pq import TransactionStatus

    from kyc.rows import deferred_writes, fetch_together

    document, attempt = _document_with_attempt(case)
    duplicate = OcrAttempt(document=document, number=1, run=1, route_step=0, provider="t", action="A")
    fields = [ExtractedField(document=document, attempt=attempt, name="kept?", value="v")]

    def job():
        with transaction.atomic(), deferred_writes():
            insert_rows(fields, keys=False)
            insert_rows([duplicate])  # the attempt's (document, run, number) is taken
            fetch_together([("SELECT 1", []), ("SELECT 2", [])])

    with pytest.raises(IntegrityError):
        job()
    assert not ExtractedField.objects.filter(document=document, name="kept?").exists()
    assert connection.connection.pgconn.transaction_status == TransactionStatus.IDLE
    assert OcrAttempt.objects.filter(document=document).count() == 1  # the connection works on


@pytest.mark.django_db(transaction=True)
def test_without_psycopgs_pipeline_internals_psycopg_starts_the_transaction_itself():
    """Where a psycopg release changed what ``_begin_in`` uses, it sends nothing: psycopg's own BEGIN
    (one round trip more) starts the transaction as before."""
    from psycopg.pq import TransactionStatus

    from kyc.rows import _begin_in

    _postgres_only()
    connection.ensure_connection()
    raw = connection.connection
    with transaction.atomic():
        assert _begin_in(raw, object()) is False
        assert raw.pgconn.transaction_status == TransactionStatus.IDLE
