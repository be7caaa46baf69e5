"""The audit chain: every service writes its event, tampering is found, PostgreSQL refuses changes."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from kyc.models import AuditEvent
from kyc.services.audit import GENESIS, audit_batch, audit_record, audit_verify, event_hash

pytestmark = pytest.mark.django_db


def _events(case, n=5):
    return [
        audit_record(actor=None, action="test.happened", obj=case, case_id=case.pk, data={"i": i}) for i in range(n)
    ]


def _raw_update(sql: str, params: list) -> None:
    """What a DBA with direct access could do: bypasses the ORM (and, on PostgreSQL, the trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_events_form_a_chain(case):
    events = list(AuditEvent.objects.filter(chain=AuditEvent.objects.get(action="case.opened").chain).order_by("seq"))
    assert events[0].prev_hash == GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.seq == previous.seq + 1
        assert event.prev_hash == previous.hash
        assert event.hash == event_hash(event)
    assert audit_verify().ok


def test_verify_names_the_modified_event(case):
    target = _events(case)[2]
    with transaction.atomic():
        _raw_update("UPDATE kyc_auditevent SET actor_repr = %s WHERE id = %s", ["mallory", target.pk])
    report = audit_verify()
    assert (report.ok, report.broken_chain, report.broken_seq) == (False, target.chain, target.seq)
    assert "modified" in report.problem
    with pytest.raises(CommandError, match=f"chain {target.chain} broken at event #{target.seq}"):
        call_command("audit_verify")


def test_verify_names_the_gap_left_by_a_deleted_event(case):
    target = _events(case)[1]
    with transaction.atomic():
        _raw_update("DELETE FROM kyc_auditevent WHERE id = %s", [target.pk])
    report = audit_verify()
    assert report.broken_seq == target.seq + 1
    assert "deleted" in report.problem


def test_verify_detects_a_rewritten_data_payload(case):
    target = _events(case)[3]
    with transaction.atomic():
        _raw_update("UPDATE kyc_auditevent SET data = %s WHERE id = %s", ['{"i": 99}', target.pk])
    assert audit_verify().broken_seq == target.seq


@pytest.mark.django_db(transaction=True)  # real commits: each case opens in its own transaction
def test_cases_spread_over_chains_and_a_transaction_keeps_to_one(partner):
    from kyc.services.cases import applicant_create, case_open

    cases = [
        case_open(applicant=applicant_create(partner=partner, external_ref=f"R{i}", actor=None), actor=None)
        for i in range(12)
    ]
    chains = {AuditEvent.objects.get(action="case.opened", case_id=c.pk).chain for c in cases}
    assert len(chains) > 1  # appends on different cases need not wait for each other
    with transaction.atomic():  # one transaction touching several cases writes to a single chain
        written = [audit_record(actor=None, action="test.bulk", obj=c, case_id=c.pk) for c in cases]
    assert len({e.chain for e in written}) == 1
    assert audit_verify().ok


def test_a_tampered_event_is_found_in_whichever_chain_it_sits(partner):
    from kyc.services.cases import applicant_create, case_open

    cases = [
        case_open(applicant=applicant_create(partner=partner, external_ref=f"T{i}", actor=None), actor=None)
        for i in range(6)
    ]
    target = AuditEvent.objects.get(action="case.opened", case_id=cases[-1].pk)
    with transaction.atomic():
        _raw_update("UPDATE kyc_auditevent SET action = %s WHERE id = %s", ["case.closed", target.pk])
    report = audit_verify()
    assert (report.broken_chain, report.broken_seq) == (target.chain, target.seq)


def test_verify_command_reports_an_intact_chain(case, capsys):
    _events(case, 3)
    call_command("audit_verify")
    assert f"{AuditEvent.objects.count()} events verified" in capsys.readouterr().out


def test_event_written_in_the_callers_transaction_rolls_back_with_it(case):
    before = AuditEvent.objects.count()

    def record_then_fail():
        with transaction.atomic():
            audit_record(actor=None, action="test.rolled_back", obj=case)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert AuditEvent.objects.count() == before


def test_a_second_event_in_one_transaction_takes_no_lock_and_reads_no_head(case):
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        audit_record(actor=None, action="test.first", obj=case, case_id=case.pk)
        with CaptureQueriesContext(connection) as queries:
            audit_record(actor=None, action="test.second", obj=case, case_id=case.pk)
            with transaction.atomic():  # a nested block still writes on from the known head
                audit_record(actor=None, action="test.third", obj=case, case_id=case.pk)
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("INSERT") == 2
    assert "SELECT" not in statements, queries.captured_queries  # no chain lock, no head read
    assert audit_verify().ok


def _record_then_fail(case):
    with transaction.atomic():
        audit_record(actor=None, action="test.undone", obj=case, case_id=case.pk)
        raise RuntimeError


def test_an_event_rolled_back_with_its_savepoint_leaves_no_gap(case):
    with transaction.atomic():
        audit_record(actor=None, action="test.kept", obj=case, case_id=case.pk)
        with pytest.raises(RuntimeError):
            _record_then_fail(case)  # a savepoint inside the outer transaction
        audit_record(actor=None, action="test.after", obj=case, case_id=case.pk)
    assert not AuditEvent.objects.filter(action="test.undone").exists()
    assert audit_verify().ok  # the next event followed the kept one, not the undone one


def test_a_rolled_back_transaction_leaves_no_stale_head(case):
    with pytest.raises(RuntimeError):
        _record_then_fail(case)
    audit_record(actor=None, action="test.after", obj=case, case_id=case.pk)
    assert audit_verify().ok


def test_a_batch_writes_its_events_when_it_ends_in_order_on_the_chain(case):
    with transaction.atomic():
        before = AuditEvent.objects.count()
        with audit_batch():
            for i in range(3):
                audit_record(actor=None, action="test.batched", obj=case, case_id=case.pk, data={"i": i})
            assert AuditEvent.objects.count() == before  # nothing written (nor the chain locked) yet
        assert AuditEvent.objects.count() == before + 3
        audit_record(actor=None, action="test.after_batch", obj=case, case_id=case.pk)
    batched = list(AuditEvent.objects.filter(action="test.batched").order_by("seq"))
    after = AuditEvent.objects.get(action="test.after_batch")
    assert [event.data["i"] for event in batched] == [0, 1, 2]
    opened = AuditEvent.objects.get(action="case.opened")
    assert [event.seq for event in [*batched, after]] == [
        opened.seq + 1,
        opened.seq + 2,
        opened.seq + 3,
        opened.seq + 4,
    ]
    assert {event.chain for event in [opened, *batched, after]} == {opened.chain}
    assert audit_verify().ok


def _batch_then_fail(case):
    with transaction.atomic(), audit_batch():
        audit_record(actor=None, action="test.undone", obj=case, case_id=case.pk)
        raise RuntimeError


def test_a_batch_that_raises_writes_nothing_and_leaves_no_stale_head(case):
    with pytest.raises(RuntimeError):
        _batch_then_fail(case)
    assert not AuditEvent.objects.filter(action="test.undone").exists()
    audit_record(actor=None, action="test.after", obj=case, case_id=case.pk)
    assert audit_verify().ok


def test_a_batch_drops_the_events_of_a_savepoint_that_rolled_back(case):
    with transaction.atomic(), audit_batch():
        audit_record(actor=None, action="test.kept", obj=case, case_id=case.pk)
        with pytest.raises(RuntimeError):
            _record_then_fail(case)  # in a savepoint, undone
        audit_record(actor=None, action="test.kept_too", obj=case, case_id=case.pk)
    assert not AuditEvent.objects.filter(action="test.undone").exists()
    kept = list(AuditEvent.objects.filter(action__startswith="test.kept").order_by("seq"))
    assert [event.action for event in kept] == ["test.kept", "test.kept_too"]
    assert kept[1].seq == kept[0].seq + 1
    assert audit_verify().ok


def test_a_batch_inside_a_batch_belongs_to_the_outer_one(case):
    with transaction.atomic(), audit_batch():
        with audit_batch():
            audit_record(actor=None, action="test.inner", obj=case, case_id=case.pk)
        assert not AuditEvent.objects.filter(action="test.inner").exists()
    assert AuditEvent.objects.filter(action="test.inner").count() == 1
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_batch_needs_the_callers_transaction():
    with pytest.raises(RuntimeError, match="transaction"), audit_batch():
        pass


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    ["UPDATE kyc_auditevent SET action = 'x'", "DELETE FROM kyc_auditevent", "TRUNCATE kyc_auditevent"],
)
def test_postgresql_refuses_changes_to_audit_rows(case, statement):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == count


@pytest.mark.postgres
def test_postgresql_refuses_orm_updates_too(case):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(actor_repr="mallory")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # two real transactions on two connections
def test_a_writer_that_waited_for_the_chain_lock_writes_after_the_holders_event(partner):
    """The lock and the head read share one round trip: the read must still see what the lock's
    previous holder committed while the second writer waited (no fork: both events in one chain)."""
    import threading
    import time

    from django.db import connections

    from kyc.services.cases import applicant_create, case_open

    if connection.vendor != "postgresql":
        pytest.skip("the chain lock is PostgreSQL's advisory lock")
    case = case_open(applicant=applicant_create(partner=partner, external_ref="LOCK", actor=None), actor=None)
    holder_wrote, waiter_done, errors = threading.Event(), threading.Event(), []

    def waiter() -> None:
        try:
            holder_wrote.wait(5)
            with transaction.atomic():  # blocks on the chain lock until the holder commits
                audit_record(actor=None, action="test.waiter", obj=case, case_id=case.pk)
        except Exception as error:  # surfaced below: a fork breaks the (chain, seq) unique constraint
            errors.append(error)
        finally:
            connections.close_all()
            waiter_done.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    with transaction.atomic():
        audit_record(actor=None, action="test.holder", obj=case, case_id=case.pk)
        holder_wrote.set()
        deadline = time.monotonic() + 10
        while not _someone_waits_for_an_advisory_lock():  # the waiter is inside its lock-and-read statement
            assert time.monotonic() < deadline, "the second writer never waited for the chain lock"
            time.sleep(0.02)
        assert not waiter_done.is_set()
    thread.join(10)
    assert not errors, errors
    holder = AuditEvent.objects.get(action="test.holder")
    waited = AuditEvent.objects.get(action="test.waiter")
    assert (waited.chain, waited.seq, waited.prev_hash) == (holder.chain, holder.seq + 1, holder.hash)
    assert audit_verify().ok


def _someone_waits_for_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return bool(cursor.fetchone()[0])
