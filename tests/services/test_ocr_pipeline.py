"""The pipeline end to end (django-q2 in sync mode; the vendor replaced at the provider boundary)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import OrmQ

from kyc.choices import CaseStatus, DocumentStatus, OcrOutcome
from kyc.models import AuditEvent, Check, Document, ExtractedField, OcrAttempt, Portrait, ProviderState
from kyc.services import ocr, ocr_finish, ocr_queue
from kyc.services.documents import document_add
from ocr_providers import OcrMisconfigured, OcrRejected, OcrUnavailable, OcrUnknownOutcome
from tests.conftest import image_bytes
from tests.support import OtherScriptedProvider, ScriptedProvider, specimen_image, truth_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scripted(settings):
    settings.KYC_OCR = {
        **settings.KYC_OCR,
        "routes": "hk_id_card=scripted:HKID>scripted2:HKID2,cn_passport=scripted:PASS",
        "max_attempts": 2,
        "backoff_base": 0.0,
        "quotas": "",
    }
    for provider in (ScriptedProvider, OtherScriptedProvider):
        provider.script.clear()
        provider.calls.clear()
    return


@pytest.fixture
def document(case, reviewer):
    return document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=reviewer
    )


def auto_approving(case):
    """The partner allows auto-approval and the applicant declared what the specimen says."""
    case.applicant.partner.auto_approve = True
    case.applicant.partner.save()
    truth = truth_result("hk_id_card").fields
    case.applicant.declared_name_en = truth["name_en"].value
    case.applicant.declared_birth_date = truth["birth_date"].value
    case.applicant.save()


def queue(document, capture):
    with capture(execute=True):
        ocr_queue.document_queue(document=document, actor=None)
    document.refresh_from_db()
    return document


def test_a_good_reading_is_stored_checked_and_routed_to_review(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.append(truth_result("hk_id_card", portrait=image_bytes("JPEG", size=(80, 110))))
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.EXTRACTED
    fields = {f.name: f for f in document.fields.filter(is_current=True)}
    assert {"name_zh", "name_en", "document_number", "birth_date"} <= set(fields)
    assert fields["document_number"].blind_index
    assert fields["document_number"].confidence == 0.99
    attempt = OcrAttempt.objects.get(document=document)
    assert (attempt.outcome, attempt.applied, attempt.vendor_request_id) == (OcrOutcome.SUCCEEDED, True, "req-test")
    assert attempt.raw_response == {"Response": {"ok": True}}
    assert Portrait.objects.get(document=document).corners[0] == [10, 10]
    assert Check.objects.filter(document=document, code="hkid_check_digit", result="pass").exists()
    document.case.refresh_from_db()
    assert document.case.status == CaseStatus.IN_REVIEW
    assert AuditEvent.objects.filter(action="case.routed_to_review").count() == 1


def test_an_attempt_records_the_vendors_own_time_as_its_latency(document, django_capture_on_commit_callbacks):
    """The provider's measure of the vendor's time (request out to answer in) is the attempt's latency,
    rounded, however long the call took around it (building, signing, parsing are our overhead); an error
    has no such measure and keeps the call's own duration."""
    from dataclasses import replace

    class Slow(ScriptedProvider):
        def recognize(self, request):
            time.sleep(0.05)  # our own work around the exchange: not the vendor's time
            return super().recognize(request)

    ScriptedProvider.script.extend(
        [OcrUnavailable("busy", vendor_code="InternalError"), replace(truth_result("hk_id_card"), latency_ms=12.6)]
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ocr, "provider_for", lambda name: Slow(None))
        document = queue(document, django_capture_on_commit_callbacks)
    failed, succeeded = OcrAttempt.objects.filter(document=document).order_by("number")
    assert succeeded.latency_ms == 13
    assert failed.latency_ms >= 50


def test_tasks_carry_only_the_document_id(monkeypatch, document, django_capture_on_commit_callbacks):
    monkeypatch.setattr("django_q.conf.Conf.SYNC", False)  # enqueue for real, into the ORM broker
    with django_capture_on_commit_callbacks(execute=True):
        ocr_queue.document_queue(document=document, actor=None)
    queued = OrmQ.objects.get()
    assert queued.task["args"] == (str(document.pk),)
    assert queued.task["kwargs"] == {}


def test_auto_approval_only_for_a_spotless_reading(case, document, django_capture_on_commit_callbacks):
    auto_approving(case)
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(document, django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED, case.routing_reason
    assert AuditEvent.objects.get(action="case.approved").data["to"] == "approved"


def test_a_low_confidence_field_sends_an_auto_approve_partner_to_review(
    case, document, django_capture_on_commit_callbacks
):
    auto_approving(case)
    ScriptedProvider.script.append(truth_result("hk_id_card", confidence=0.5))
    queue(document, django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert "below 0.9 confidence" in case.routing_reason
    assert "declared_data" not in case.routing_reason


def test_a_wrong_check_digit_lands_in_review_with_the_failed_check(case, document, django_capture_on_commit_callbacks):
    auto_approving(case)
    good = truth_result("hk_id_card").fields["document_number"].value
    bad = good[:-2] + ("1" if good[-2] != "1" else "2") + ")"
    ScriptedProvider.script.append(truth_result("hk_id_card", overrides={"document_number": bad}))
    queue(document, django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert Check.objects.get(document=document, code="hkid_check_digit").result == "fail"
    assert "hkid_check_digit (fail)" in case.routing_reason


def test_retryable_errors_are_retried_then_succeed(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.extend([OcrUnavailable("busy", vendor_code="InternalError"), truth_result("hk_id_card")])
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.EXTRACTED
    outcomes = list(OcrAttempt.objects.filter(document=document).values_list("outcome", "vendor_code"))
    assert outcomes == [(OcrOutcome.RETRYABLE_ERROR, "InternalError"), (OcrOutcome.SUCCEEDED, "")]


def test_retry_after_is_honoured(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.append(OcrUnavailable("slow down", vendor_code="RequestLimitExceeded", retry_after=120))
    before = timezone.now()
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.QUEUED
    assert document.ocr_next_at >= before + timedelta(seconds=120)
    assert len(ScriptedProvider.calls) == 1  # no early retry


def test_fallback_after_the_primary_uses_its_attempts(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.extend([OcrUnavailable("down"), OcrUnknownOutcome("read timeout")])
    OtherScriptedProvider.script.append(truth_result("hk_id_card", provider="scripted2"))
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.EXTRACTED
    steps = list(OcrAttempt.objects.filter(document=document).values_list("provider", "route_step", "outcome"))
    assert steps == [("scripted", 0, "retryable_error"), ("scripted", 0, "unknown"), ("scripted2", 1, "succeeded")]


def test_every_attempt_failing_leaves_a_failed_document_with_the_reason(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.extend([OcrUnavailable("down", vendor_code="InternalError")] * 2)
    OtherScriptedProvider.script.extend([OcrUnavailable("down too", vendor_code="APIG.0201")] * 2)
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.FAILED
    assert "no attempts left" in document.status_reason
    assert OcrAttempt.objects.filter(document=document).count() == 4
    document.case.refresh_from_db()
    assert document.case.status == CaseStatus.IN_REVIEW


def test_a_final_error_marks_the_document_unreadable_with_the_vendor_reason(
    document, django_capture_on_commit_callbacks
):
    ScriptedProvider.script.append(
        OcrRejected("The image is not an HKID card", code="not_a_document", vendor_code="FailedOperation.NoHKIDCard")
    )
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.UNREADABLE
    assert "FailedOperation.NoHKIDCard" in document.status_reason
    assert len(ScriptedProvider.calls) == 1
    assert not OtherScriptedProvider.calls


# The codes are what the clients make of the vendors' own errors (ocr_providers/*/errors.py): a photo that
# cannot be read ends unreadable (ask for another); a rejection staff must look into ends failed.
@pytest.mark.parametrize(
    ("code", "vendor_code", "status"),
    [
        ("unreadable_image", "FailedOperation.ImageBlur", DocumentStatus.UNREADABLE),
        ("unreadable_image", "AIS.0102", DocumentStatus.UNREADABLE),
        ("wrong_side", "FailedOperation.CardSideError", DocumentStatus.UNREADABLE),
        ("several_documents", "AIS.0122", DocumentStatus.UNREADABLE),
        ("image_too_large", "FailedOperation.ImageSizeTooLarge", DocumentStatus.FAILED),
        ("mrz_mismatch", "FailedOperation.InconsistencyBetweenMRZAndVRZ", DocumentStatus.FAILED),
    ],
)
def test_a_vendors_final_error_ends_the_document_as_its_code_says(
    document, django_capture_on_commit_callbacks, code, vendor_code, status
):
    ScriptedProvider.script.append(OcrRejected("the vendor's own words", code=code, vendor_code=vendor_code))
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == status
    assert document.status_reason == f"the vendor's own words [scripted {vendor_code}]"
    assert len(ScriptedProvider.calls) == 1
    assert not OtherScriptedProvider.calls
    attempt = OcrAttempt.objects.get(document=document)
    assert (attempt.outcome, attempt.error_code) == (OcrOutcome.FINAL_ERROR, code)


def test_a_configuration_error_suspends_the_provider_and_uses_the_fallback(
    case, document, reviewer, django_capture_on_commit_callbacks
):
    ScriptedProvider.script.append(OcrMisconfigured("bad credentials", vendor_code="AuthFailure.SecretIdNotFound"))
    OtherScriptedProvider.script.extend([truth_result("hk_id_card"), truth_result("hk_id_card", index=1)])
    document = queue(document, django_capture_on_commit_callbacks)
    assert document.status == DocumentStatus.EXTRACTED
    state = ProviderState.objects.get(provider="scripted")
    assert state.suspended
    assert state.vendor_code == "AuthFailure.SecretIdNotFound"
    assert AuditEvent.objects.filter(action="provider.suspended").count() == 1
    # a second document never calls the suspended provider
    second = document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card", index=1), actor=reviewer
    )
    queue(second, django_capture_on_commit_callbacks)
    assert len(ScriptedProvider.calls) == 1
    assert len(OtherScriptedProvider.calls) == 2


def test_with_no_fallback_a_suspended_provider_makes_documents_wait_not_fail(
    case, reviewer, django_capture_on_commit_callbacks
):
    passport = document_add(
        case=case, document_type="cn_passport", side="front", data=specimen_image("cn_passport"), actor=reviewer
    )
    ScriptedProvider.script.append(OcrMisconfigured("arrears", vendor_code="ResourceUnavailable.InArrears"))
    passport = queue(passport, django_capture_on_commit_callbacks)
    assert passport.status == DocumentStatus.QUEUED
    assert passport.ocr_next_at > timezone.now()
    ScriptedProvider.script.append(truth_result("cn_passport"))
    with django_capture_on_commit_callbacks(execute=True):
        ocr_queue.provider_resume(provider="scripted", actor=reviewer)
    passport.refresh_from_db()
    assert passport.status == DocumentStatus.EXTRACTED
    assert OcrAttempt.objects.filter(document=passport).count() == 2


def test_duplicate_delivery_is_a_no_op(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(document, django_capture_on_commit_callbacks)
    assert ocr.ocr_document_run(document_id=document.pk) == "nothing to do"
    assert len(ScriptedProvider.calls) == 1


def test_a_lost_worker_leaves_an_unknown_attempt_and_the_document_is_recovered(
    document, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        ocr_queue.document_queue(document=document, actor=None)
    claim = ocr._claim(document.pk)  # the worker claims, then dies before the vendor answers
    assert isinstance(claim, ocr_finish.Claim)
    Document.objects.filter(pk=document.pk).update(
        ocr_lease_until=timezone.now() - timedelta(seconds=1), updated_at=timezone.now() - timedelta(minutes=5)
    )
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    with django_capture_on_commit_callbacks(execute=True):
        assert ocr.ocr_sweep()["requeued_lost"] == 1
    document.refresh_from_db()
    assert document.status == DocumentStatus.EXTRACTED
    assert list(OcrAttempt.objects.filter(document=document).values_list("outcome", flat=True)) == [
        "unknown",
        "succeeded",
    ]
    # the dead worker's late answer, if it ever comes, changes nothing
    assert ocr_finish.finish(claim, truth_result("hk_id_card"), 5) == "stale"
    assert OcrAttempt.objects.filter(document=document, applied=True).count() == 1


def test_a_result_cannot_be_applied_twice_for_one_run(document, django_capture_on_commit_callbacks):
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(document, django_capture_on_commit_callbacks)
    attempt = OcrAttempt.objects.get(document=document)
    with pytest.raises(IntegrityError), transaction.atomic():
        OcrAttempt.objects.create(document=document, number=2, run=attempt.run, provider="x", action="y", applied=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtractedField.objects.create(
            document=document, attempt=attempt, name="sex", value="M", source="vendor", is_current=False
        )


def test_rerun_keeps_earlier_attempts_and_fields_as_history(document, reviewer, django_capture_on_commit_callbacks):
    ScriptedProvider.script.extend([truth_result("hk_id_card", confidence=0.7), truth_result("hk_id_card")])
    document = queue(document, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        ocr_queue.document_rerun(document=document, actor=reviewer)
    document.refresh_from_db()
    assert (document.status, document.ocr_run) == (DocumentStatus.EXTRACTED, 2)
    runs = list(OcrAttempt.objects.filter(document=document).values_list("run", "applied"))
    assert runs == [(1, True), (2, True)]
    numbers = ExtractedField.objects.filter(document=document, name="document_number")
    assert sorted(numbers.values_list("is_current", "confidence")) == [(False, 0.7), (True, 0.99)]


def test_no_rerun_while_the_case_awaits_its_second_approval(
    document, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    """The first approval was given on the current reading; a new reading would reach the second approver
    unseen by the first. Sent back to review, the document can be read again."""
    from kyc.exceptions import KycError
    from kyc.services.cases import case_approve, case_return_to_review

    ScriptedProvider.script.extend([truth_result("hk_id_card"), truth_result("hk_id_card")])
    document = queue(document, django_capture_on_commit_callbacks)
    case = case_approve(case=document.case, actor=reviewer)
    assert case.status == CaseStatus.AWAITING_SECOND_APPROVAL
    with pytest.raises(KycError, match="awaits its second approval") as caught:
        ocr_queue.document_rerun(document=document, actor=reviewer)
    assert caught.value.code == "rerun_not_allowed"
    document.refresh_from_db()
    assert (document.status, document.ocr_run) == (DocumentStatus.EXTRACTED, 1)
    case_return_to_review(case=case, actor=second_reviewer, reason="portrait unclear")
    with django_capture_on_commit_callbacks(execute=True):
        ocr_queue.document_rerun(document=document, actor=reviewer)
    document.refresh_from_db()
    assert (document.status, document.ocr_run) == (DocumentStatus.EXTRACTED, 2)


def _second_applicant_case(partner, ref):
    from kyc.services.cases import applicant_create, case_open

    return case_open(applicant=applicant_create(partner=partner, external_ref=ref, actor=None), actor=None)


def _wrong_check_digit_result():
    good = truth_result("hk_id_card").fields["document_number"].value
    bad = good[:-2] + ("1" if good[-2] != "1" else "2") + ")"
    return truth_result("hk_id_card", overrides={"document_number": bad})


@pytest.mark.parametrize("read_again", [False, True])
def test_the_last_document_routes_its_case_on_every_documents_current_checks(
    read_again, case, reviewer, document, django_capture_on_commit_callbacks
):
    """Routing reads the case with the finish's locks, before the finish writes: a document read earlier
    counts with its current checks, and the finishing document's new checks replace those of its earlier
    run (here the HKID card's failed check digit, read again correctly while the passport was read)."""
    capture = django_capture_on_commit_callbacks
    passport = document_add(
        case=case, document_type="cn_passport", side="front", data=specimen_image("cn_passport"), actor=reviewer
    )
    ScriptedProvider.script.append(_wrong_check_digit_result())
    queue(document, capture)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # the passport is not read yet
    if read_again:
        with capture(execute=False):  # re-run: its task waits while the passport is read
            ocr_queue.document_queue(document=document, actor=reviewer)
    ScriptedProvider.script.append(truth_result("cn_passport"))
    queue(passport, capture)
    case.refresh_from_db()
    if read_again:
        assert case.status == CaseStatus.OPEN  # the HKID card is being read again
        ScriptedProvider.script.append(truth_result("hk_id_card"))
        with capture(execute=True):
            assert ocr.ocr_document_run(document_id=document.pk) == DocumentStatus.EXTRACTED
        case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert ("hkid_check_digit (fail)" in case.routing_reason) is not read_again, case.routing_reason
    current = Check.objects.filter(document=document, is_current=True, code="hkid_check_digit")
    assert list(current.values_list("result", flat=True)) == ["pass" if read_again else "fail"]


def test_an_expired_permit_lands_in_review_with_the_failed_check(
    settings, case, reviewer, django_capture_on_commit_callbacks
):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": "exit_entry_permit=scripted:PermitOCR"}
    auto_approving(case)
    document = document_add(
        case=case,
        document_type="exit_entry_permit",
        side="front",
        data=specimen_image("exit_entry_permit"),
        actor=reviewer,
    )
    ScriptedProvider.script.append(truth_result("exit_entry_permit", overrides={"expiry_date": "2020-01-31"}))
    queue(document, django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert Check.objects.get(document=document, code="not_expired").result == "fail"


def test_a_duplicate_number_lands_in_review_naming_the_check(
    case, partner, reviewer, document, django_capture_on_commit_callbacks
):
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(document, django_capture_on_commit_callbacks)
    other_case = _second_applicant_case(partner, "APP-0002")
    auto_approving(other_case)
    other = document_add(
        case=other_case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=reviewer
    )
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(other, django_capture_on_commit_callbacks)
    other_case.refresh_from_db()
    assert other_case.status == CaseStatus.IN_REVIEW
    check = Check.objects.get(document=other, code="duplicate_document_number")
    assert check.result == "fail"
    assert str(case.applicant_id) not in check.detail


def test_an_applicant_holding_a_number_on_several_documents_is_named_once(
    case, partner, reviewer, document, django_capture_on_commit_callbacks
):
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(document, django_capture_on_commit_callbacks)
    again = document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=reviewer
    )
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(again, django_capture_on_commit_callbacks)  # the same applicant, the same number, twice
    other_case = _second_applicant_case(partner, "APP-0003")
    other = document_add(
        case=other_case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=reviewer
    )
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(other, django_capture_on_commit_callbacks)
    check = Check.objects.get(document=other, code="duplicate_document_number")
    assert check.data["other_applicants"] == [str(case.applicant_id)]
    assert "1 other applicant." in check.detail
    # the lookup itself returns each holder once (it used to return one row per stored field), leaving
    # out the applicant of the document it is given, as does the read the pipeline's finish sends with
    # its lock read; an answer known ahead is not read again
    from kyc.rows import fetch
    from kyc.services.duplicates import duplicate_lookup_for, holders, holders_read

    number = check.data["namespace"], truth_result("hk_id_card").fields["document_number"].value
    assert duplicate_lookup_for(other.pk)(*number) == [str(case.applicant_id)]
    assert holders(fetch(*holders_read(*number, other.pk))) == [str(case.applicant_id)]
    assert holders(fetch(*holders_read(*number, document.pk))) == [str(other_case.applicant_id)]
    assert duplicate_lookup_for(other.pk, {number: ["known"]})(*number) == ["known"]


def test_an_hkid_number_on_a_travel_permit_back_matches_another_applicants_hkid(
    settings, case, partner, reviewer, document, django_capture_on_commit_callbacks
):
    settings.KYC_OCR = {
        **settings.KYC_OCR,
        "routes": settings.KYC_OCR["routes"] + ",mainland_travel_permit=scripted:MTP",
    }
    hkid = truth_result("hk_id_card").fields["document_number"].value
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    queue(document, django_capture_on_commit_callbacks)
    other_case = _second_applicant_case(partner, "APP-0003")
    back = document_add(
        case=other_case,
        document_type="mainland_travel_permit",
        side="back",
        data=specimen_image("mainland_travel_permit", "back"),
        actor=reviewer,
    )
    ScriptedProvider.script.append(truth_result("mainland_travel_permit", "back", overrides={"hkid_number": hkid}))
    queue(back, django_capture_on_commit_callbacks)
    assert Check.objects.get(document=back, code="duplicate_document_number").result == "fail"


def test_one_job_costs_a_bounded_number_of_queries(document, django_capture_on_commit_callbacks):
    """The pipeline's own overhead is mostly database round trips: keep them counted. (Inside the test's
    transaction the audit chain's head is already known, so the two chain lock-and-read statements a
    worker makes, one per transaction, do not show here; savepoints stand where BEGIN/COMMIT would.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks(execute=False):
        ocr_queue.document_queue(document=document, actor=None)
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    with CaptureQueriesContext(connection) as queries:
        assert ocr.ocr_document_run(document_id=document.pk) == DocumentStatus.EXTRACTED
    # A table's rows go in one INSERT, or on PostgreSQL in several back to back (kyc.rows._rows_per_insert):
    # those count as one here, as they cost one round trip.
    statements = [q["sql"] for q in queries.captured_queries]
    merged = [sql for i, sql in enumerate(statements) if i == 0 or not _same_insert(statements[i - 1], sql)]
    assert len(merged) <= 19, "\n".join(sql[:100] for sql in merged)


def _same_insert(before: str, sql: str) -> bool:
    """Whether ``sql`` inserts more rows into the table the statement ``before`` inserted into."""
    return sql.startswith("INSERT INTO ") and before.split(" (", 1)[0] == sql.split(" (", 1)[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # real transactions: BEGIN and COMMIT as a worker sends them
def test_one_job_makes_a_bounded_number_of_round_trips(partner, monkeypatch):
    """Each round trip after the vendor's answer costs the most (a PostgreSQL backend and a worker that
    slept through the call wake up cold): the job's are counted from libpq's own trace. The plan read;
    the claim, two (BEGIN with the lock read, the audit chain's lock and head, the case known from the
    plan; the attempt and status writes and the event with the COMMIT); the finish, two (BEGIN with the
    lock read, the duplicate lookup, the routing reads and the chain's lock and head; every write, the
    case's routing and the events with the COMMIT). psycopg would send each BEGIN in a round trip of its
    own (``kyc.rows._begin_in``)."""
    from django.db import connection

    from kyc.services.cases import applicant_create, case_open
    from tests.support import RoundTrips

    if connection.vendor != "postgresql":
        pytest.skip("round trips are PostgreSQL's")
    case = case_open(applicant=applicant_create(partner=partner, external_ref="RT", actor=None), actor=None)
    document = document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=None
    )
    monkeypatch.setattr(ocr_queue, "enqueue", lambda *args, **kwargs: None)  # the test runs the job itself
    ocr_queue.document_queue(document=document, actor=None)
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    with RoundTrips() as trips:
        assert ocr.ocr_document_run(document_id=document.pk) == DocumentStatus.EXTRACTED
    assert trips.count <= 5, "\n".join(" | ".join(m[:60] for m in trip) for trip in trips.trips())
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.EXTRACTED
    # the chain locked ahead (from the plan's case id) is the case's: all its events are on one chain
    events = AuditEvent.objects.filter(case_id=case.pk)
    assert events.filter(action="document.status_changed", data__to="processing").count() == 1
    assert events.values_list("chain", flat=True).distinct().count() == 1


def test_a_redelivered_task_waits_out_a_dead_workers_lease_and_takes_over(
    settings, document, django_capture_on_commit_callbacks
):
    settings.KYC_OCR = {**settings.KYC_OCR, "lease_seconds": 5}
    with django_capture_on_commit_callbacks(execute=False):
        ocr_queue.document_queue(document=document, actor=None)
    assert isinstance(ocr._claim(document.pk), ocr_finish.Claim)  # the first worker dies holding a 5 s lease
    ScriptedProvider.script.append(truth_result("hk_id_card"))
    Document.objects.filter(pk=document.pk).update(ocr_lease_until=timezone.now() + timedelta(seconds=0.2))
    # the redelivery does not sleep in its worker: it leaves a task delayed to the lease's end (run
    # in-process here), which takes over
    assert ocr.ocr_document_run(document_id=document.pk) == "not due"
    document.refresh_from_db()
    assert document.status == DocumentStatus.EXTRACTED
    assert list(OcrAttempt.objects.filter(document=document).values_list("outcome", flat=True)) == [
        "unknown",
        "succeeded",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # two real transactions on two connections
def test_two_documents_of_one_case_finishing_together_route_it_once_after_both(partner, monkeypatch):
    """The finish locks the document and then its case in one statement, so the second document's finish
    waits for the first to commit and routes the case seeing both read: once, never "waiting" forever
    and never twice."""
    from django.db import connection

    from kyc.services import results
    from kyc.services.cases import applicant_create, case_open

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the two transactions whole")
    case = case_open(applicant=applicant_create(partner=partner, external_ref="TWO", actor=None), actor=None)
    first, second = (
        document_add(case=case, document_type=kind, side="front", data=specimen_image(kind), actor=None)
        for kind in ("hk_id_card", "cn_passport")
    )
    monkeypatch.setattr(ocr_queue, "enqueue", lambda *args, **kwargs: None)  # the test runs the steps itself
    claims = {}
    for document in (first, second):
        ocr_queue.document_queue(document=document, actor=None)
        claims[document.pk] = ocr._claim(document.pk)
    inside, release, errors = threading.Event(), threading.Event(), []
    apply = results.result_apply

    def paused_apply(*, document, attempt, result, checked=None):
        if document.pk == first.pk:  # the first finish holds its locks here until released
            inside.set()
            release.wait(10)
        return apply(document=document, attempt=attempt, result=result, checked=checked)

    monkeypatch.setattr(ocr_finish, "result_apply", paused_apply)

    holder = _in_thread(lambda: ocr_finish.finish(claims[first.pk], truth_result("hk_id_card"), 5), errors)
    holder.start()
    assert inside.wait(10)
    waiter = _in_thread(lambda: ocr_finish.finish(claims[second.pk], truth_result("cn_passport"), 5), errors)
    _start_until_it_waits(waiter, "the second finish never waited for the case")
    release.set()
    holder.join(10)
    waiter.join(10)
    assert not errors, errors
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert set(Document.objects.filter(case=case).values_list("status", flat=True)) == {DocumentStatus.EXTRACTED}
    assert AuditEvent.objects.filter(case_id=case.pk, action="case.routed_to_review").count() == 1


def _in_thread(step, errors: list) -> threading.Thread:
    """``step`` in a thread of its own, on its own database connection; what it raises goes to ``errors``."""
    from django.db import connections

    def run() -> None:
        try:
            step()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def _start_until_it_waits(thread: threading.Thread, failure: str) -> None:
    """Start ``thread`` and return once PostgreSQL shows a transaction waiting for a row lock (its own)."""
    thread.start()
    deadline = time.monotonic() + 10
    while not _someone_waits_for_a_row_lock():
        assert time.monotonic() < deadline, failure
        time.sleep(0.02)


def _someone_waits_for_a_row_lock() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype IN ('transactionid', 'tuple') AND NOT granted")
        return bool(cursor.fetchone()[0])


def _read_case(partner, ref, monkeypatch):
    """A case of one HKID (the partner without four-eyes: one approval settles it), read once: in review.
    The test runs the pipeline's steps itself (no tasks)."""
    from kyc.services.cases import applicant_create, case_open

    partner.four_eyes = False
    partner.save()
    case = case_open(applicant=applicant_create(partner=partner, external_ref=ref, actor=None), actor=None)
    document = document_add(
        case=case, document_type="hk_id_card", side="front", data=specimen_image("hk_id_card"), actor=None
    )
    monkeypatch.setattr(ocr_queue, "enqueue", lambda *args, **kwargs: None)
    ocr_queue.document_queue(document=document, actor=None)
    ocr_finish.finish(ocr._claim(document.pk), truth_result("hk_id_card"), 5)
    case.refresh_from_db()
    document.refresh_from_db()
    return case, document


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # two real transactions on two connections
@pytest.mark.parametrize("decision", ["reject", "request_resubmission"])
def test_a_decision_and_a_finishing_document_of_its_case_do_not_deadlock(partner, reviewer, monkeypatch, decision):
    """A reviewer rejects while one of the case's documents is being read again (an approval is refused
    then: the next test). The decision locks the documents before the case, as a finish does (document,
    then case): taking the case first, the decision would hold it while the finish held the document and
    waited for the case, and then wait for the document itself (PostgreSQL would abort one of the two)."""
    from django.db import connection

    from kyc.services import cases
    from kyc.services.cases import case_reject, case_request_resubmission

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the two transactions whole")
    case, document = _read_case(partner, "DEC", monkeypatch)
    ocr_queue.document_rerun(document=document, actor=reviewer)
    claim = ocr._claim(document.pk)  # read again: processing while the reviewer decides
    deciding, release, errors = threading.Event(), threading.Event(), []
    decide = cases._decide

    def paused_decide(*args, **kwargs):
        deciding.set()  # the decision holds its locks here until released
        release.wait(10)
        return decide(*args, **kwargs)

    monkeypatch.setattr(cases, "_decide", paused_decide)

    decide_now = {
        "reject": lambda: case_reject(case=case, actor=reviewer, reason_codes=["suspected_tampering"]),
        "request_resubmission": lambda: case_request_resubmission(
            case=case, actor=reviewer, reason_codes=["poor_image_quality"]
        ),
    }[decision]
    deciding_thread = _in_thread(decide_now, errors)
    deciding_thread.start()
    assert deciding.wait(10)
    finish = _in_thread(lambda: ocr_finish.finish(claim, truth_result("hk_id_card"), 5), errors)
    _start_until_it_waits(finish, "the finish never waited for the decision")
    release.set()
    deciding_thread.join(15)
    finish.join(15)
    assert not errors, errors
    case.refresh_from_db()
    document.refresh_from_db()
    decided = {"reject": CaseStatus.REJECTED, "request_resubmission": CaseStatus.RESUBMISSION_REQUESTED}
    assert case.status == decided[decision]
    # read after the decision (which left it processing), then settled as the decision settles documents
    assert (
        document.status
        == {"reject": DocumentStatus.REJECTED, "request_resubmission": "resubmission_requested"}[decision]
    )
    assert OcrAttempt.objects.filter(document=document, run=document.ocr_run, applied=True).count() == 1
    statuses = AuditEvent.objects.filter(action="document.status_changed", object_id=str(document.pk))
    assert [e.data["to"] for e in statuses.order_by("seq")][-2:] == ["extracted", document.status]


def test_a_document_whose_case_was_rejected_while_it_was_read_is_not_read_again(
    partner, reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    """A retryable error, or a worker lost, after the case was decided: no further vendor call for it."""
    from kyc.services.cases import case_reject
    from ocr_providers import OcrUnavailable

    case, document = _read_case(partner, "GONE", monkeypatch)
    ocr_queue.document_rerun(document=document, actor=reviewer)
    claim = ocr._claim(document.pk)
    case_reject(case=case, actor=reviewer, reason_codes=["suspected_tampering"])
    enqueued = []
    monkeypatch.setattr(ocr_queue, "enqueue", lambda *args, **kwargs: enqueued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        status = ocr_finish.finish(claim, OcrUnavailable("busy", code="vendor_busy"), 5)
    document.refresh_from_db()
    assert (status, document.status, enqueued) == (DocumentStatus.REJECTED, DocumentStatus.REJECTED, [])

    case2, lost = _read_case(partner, "LOST", monkeypatch)
    ocr_queue.document_rerun(document=lost, actor=reviewer)
    ocr._claim(lost.pk)  # its worker dies here
    case_reject(case=case2, actor=reviewer, reason_codes=["suspected_tampering"])
    Document.objects.filter(pk=lost.pk).update(ocr_lease_until=timezone.now() - timedelta(seconds=1))
    assert ocr._claim(lost.pk) is None  # taken over, then settled: no new attempt
    lost.refresh_from_db()
    assert lost.status == DocumentStatus.REJECTED
    assert list(OcrAttempt.objects.filter(document=lost, run=2).values_list("outcome", flat=True)) == ["unknown"]

    case3, swept = _read_case(partner, "SWEPT", monkeypatch)  # the reaper finds it instead of a redelivery
    ocr_queue.document_rerun(document=swept, actor=reviewer)
    ocr._claim(swept.pk)
    case_reject(case=case3, actor=reviewer, reason_codes=["suspected_tampering"])
    Document.objects.filter(pk=swept.pk).update(ocr_lease_until=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(ocr_queue, "enqueue", lambda *args, **kwargs: enqueued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        ocr.ocr_sweep()
    swept.refresh_from_db()
    assert (swept.status, swept.ocr_task_queued, enqueued) == (DocumentStatus.REJECTED, False, [])


def test_an_approval_waits_for_a_document_being_read_again(partner, reviewer, monkeypatch):
    """Staff re-run OCR on a document of a case in review: while it is read, the case cannot be approved
    (the approval would not see the new fields and checks); once it is read, it can."""
    from kyc.exceptions import CaseConflict
    from kyc.services.cases import case_approve

    case, document = _read_case(partner, "REREAD", monkeypatch)
    assert case.status == CaseStatus.IN_REVIEW
    ocr_queue.document_rerun(document=document, actor=reviewer)
    with pytest.raises(CaseConflict) as queued:
        case_approve(case=case, actor=reviewer)
    claim = ocr._claim(document.pk)
    with pytest.raises(CaseConflict) as processing:
        case_approve(case=case, actor=reviewer)
    assert (queued.value.code, processing.value.code) == ("documents_being_read", "documents_being_read")
    ocr_finish.finish(claim, truth_result("hk_id_card"), 5)
    assert case_approve(case=case, actor=reviewer).status == CaseStatus.APPROVED
