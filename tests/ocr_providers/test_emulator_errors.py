"""Each failure class over real loopback HTTP: auth, clocks, tokens, quotas and transport faults."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from ocr_providers.base import OcrRequest
from ocr_providers.documents import DocumentType, Side
from ocr_providers.emulator import FAIL_WAYS, FAULT_KINDS, Fault, VendorEmulator, VendorError
from ocr_providers.exceptions import OcrMisconfigured, OcrRejected, OcrUnavailable, OcrUnknownOutcome
from ocr_providers.huawei import HuaweiOcrProvider
from ocr_providers.tencent import TencentOcrProvider

from .conftest import IMAGE, huawei_config, tencent_config

HKID = OcrRequest(image=IMAGE, document_type=DocumentType.HK_ID_CARD, side=Side.FRONT)
PASSPORT = OcrRequest(image=IMAGE, document_type=DocumentType.CN_PASSPORT, side=Side.FRONT)


def _tencent(emu, **overrides):
    clock = overrides.pop("clock", time.time)
    return TencentOcrProvider(tencent_config(emu.url, **overrides), clock=clock)


def _huawei(emu, *, token=False, clock=time.time, **overrides):
    return HuaweiOcrProvider(huawei_config(emu.url, token=token, **overrides), clock=clock)


# --- Tencent authentication ----------------------------------------------------------------------


def test_tencent_bad_signature_is_configuration_and_not_retried(emulator):
    with pytest.raises(OcrMisconfigured) as caught:
        _tencent(emulator, secret_key="not-the-key").recognize(HKID)
    assert caught.value.vendor_code == "AuthFailure.SignatureFailure"
    assert caught.value.code == "bad_signature"
    assert caught.value.request_id
    assert emulator.count(vendor="tencent") == 1


def test_tencent_stale_timestamp_is_resigned_once_then_reported_as_clock_skew(emulator):
    skewed = _tencent(emulator, clock=lambda: time.time() - 3600)
    with pytest.raises(OcrMisconfigured) as caught:
        skewed.recognize(HKID)
    assert (caught.value.vendor_code, caught.value.code) == ("AuthFailure.SignatureExpire", "clock_skew")
    assert emulator.count(outcome="AuthFailure.SignatureExpire") == 2


def test_tencent_unknown_secret_id(emulator):
    with pytest.raises(OcrMisconfigured) as caught:
        _tencent(emulator, secret_id="AKIDUNKNOWN").recognize(HKID)
    assert caught.value.vendor_code == "AuthFailure.SecretIdNotFound"


def test_tencent_temporary_credentials_need_their_token(emulator):
    temp = dict(secret_id="AKIDTEMPORARYEXAMPLE0000000000000000", secret_key="TEMPORARYSECRETKEYEXAMPLE0000000")
    assert _tencent(emulator, session_token="EXAMPLE-SESSION-TOKEN", **temp).recognize(HKID).fields
    with pytest.raises(OcrMisconfigured) as caught:
        _tencent(emulator, **temp).recognize(HKID)
    assert caught.value.vendor_code == "AuthFailure.TokenFailure"


# --- Huawei authentication ------------------------------------------------------------------------


def test_huawei_bad_signature_is_never_retried(emulator):
    with pytest.raises(OcrMisconfigured) as caught:
        _huawei(emulator, secret_key="wrong-secret").recognize(PASSPORT)
    assert (caught.value.vendor_code, caught.value.code) == ("APIG.0301", "bad_signature")
    assert "verify aksk signature fail" in caught.value.vendor_message
    assert emulator.count(vendor="huawei") == 1


def test_huawei_locks_the_key_after_more_than_five_failures(emulator):
    wrong = _huawei(emulator, secret_key="wrong-secret")
    for _ in range(6):
        with pytest.raises(OcrMisconfigured):
            wrong.recognize(PASSPORT)
    with pytest.raises(OcrMisconfigured) as caught:
        _huawei(emulator).recognize(PASSPORT)  # the right key, but locked for five minutes
    assert caught.value.code == "credentials_locked"
    assert emulator.count(vendor="huawei") == 7


def test_huawei_stale_sdk_date_is_clock_skew(emulator):
    with pytest.raises(OcrMisconfigured) as caught:
        _huawei(emulator, clock=lambda: time.time() - 1800).recognize(PASSPORT)
    assert (caught.value.vendor_code, caught.value.code) == ("APIG.0301", "clock_skew")
    assert emulator.count(vendor="huawei") == 1


def test_huawei_token_is_fetched_once_for_many_calls(emulator):
    provider = _huawei(emulator, token=True)
    for _ in range(5):
        provider.recognize(PASSPORT)
    assert emulator.count(action="iam") == 1
    assert provider.tokens.fetches == 1
    assert emulator.count(action="passport", outcome="ok") == 5


def test_huawei_expired_token_is_refreshed_once(emulator):
    provider = _huawei(emulator, token=True)
    provider.recognize(PASSPORT)
    emulator.expire_tokens()
    assert provider.recognize(PASSPORT).fields
    assert emulator.count(action="iam") == 2
    assert emulator.count(action="passport", outcome="APIG.0307") == 1


def test_huawei_token_refresh_happens_once_never_more(emulator):
    provider = _huawei(emulator, token=True)
    expired = VendorError("APIG.0307", "The token must be updated.", 401)
    emulator.script("passport", expired, expired, expired)
    with pytest.raises(OcrMisconfigured) as caught:
        provider.recognize(PASSPORT)
    assert caught.value.code == "token_expired"
    assert emulator.count(action="iam") == 2
    assert emulator.count(action="passport") == 2


def test_huawei_wrong_iam_password(emulator):
    with pytest.raises(OcrMisconfigured) as caught:
        _huawei(emulator, token=True, iam_password="wrong").recognize(PASSPORT)
    assert caught.value.code == "bad_credentials"
    assert emulator.count(action="passport") == 0


def test_huawei_withdrawn_endpoint_is_configuration(emulator):
    emulator.withdraw("hk-id-card")
    with pytest.raises(OcrMisconfigured) as caught:
        _huawei(emulator).recognize(HKID)
    assert (caught.value.vendor_code, caught.value.code) == ("APIG.0101", "service_not_activated")


# --- Quotas ---------------------------------------------------------------------------------------


def test_quotas_answer_each_vendors_rate_limit_error():
    frozen = time.time()  # one instant: every call falls in the same one-second window
    with VendorEmulator(quotas={"HKIDCardOCR": 2, "passport": 1}, clock=lambda: frozen) as emu:
        tencent, huawei = _tencent(emu), _huawei(emu)
        tencent.recognize(HKID)
        tencent.recognize(HKID)
        with pytest.raises(OcrUnavailable) as t_caught:
            tencent.recognize(HKID)
        huawei.recognize(PASSPORT)
        with pytest.raises(OcrUnavailable) as h_caught:
            huawei.recognize(PASSPORT)
    assert (t_caught.value.vendor_code, t_caught.value.code) == ("RequestLimitExceeded", "rate_limited")
    assert (h_caught.value.vendor_code, h_caught.value.http_status) == ("APIG.0308", 429)
    assert h_caught.value.retry_after == 3.0
    assert emu.count(outcome="ok") == 3


def test_a_call_is_counted_when_its_headers_arrive_not_after_its_body_is_checked():
    """Tencent counts arrivals: the emulator stamps each request as soon as its headers are in, so a
    slow signature check on a busy server cannot push a call into the next window."""
    with VendorEmulator() as emu:
        stamped = []
        original = emu.state.quotas.admit

        def admit(action, at=None):
            stamped.append((at, time.time()))
            return original(action, at)

        emu.state.quotas.admit = admit
        _tencent(emu).recognize(HKID)
    (arrived, admitted), *_ = stamped
    assert arrived is not None
    assert arrived <= admitted


def test_arrivals_stamped_out_of_order_are_counted_in_their_own_window():
    from ocr_providers.emulator.script import Quotas

    quotas = Quotas(clock=lambda: 10.0, limits={"A": 2})
    assert quotas.admit("A", at=10.0)
    assert quotas.admit("A", at=9.5)  # a thread that stamped earlier records later
    assert not quotas.admit("A", at=10.2)  # (9.2, 10.2] already holds two
    assert quotas.admit("A", at=10.6)  # (9.6, 10.6] holds one: 10.0
    assert list(quotas._seen["A"]) == [9.5, 10.0, 10.6]


# --- Vendor errors keep their code and message -----------------------------------------------------

VENDOR_ERRORS = [
    ("tencent", "FailedOperation.NoHKIDCard", OcrRejected, "wrong_document_type"),
    ("tencent", "FailedOperation.ImageDecodeFailed", OcrRejected, "unreadable_image"),
    ("tencent", "FailedOperation.ImageSizeTooLarge", OcrRejected, "image_too_large"),
    ("tencent", "FailedOperation.UnOpenError", OcrMisconfigured, "service_not_activated"),
    ("tencent", "ResourceUnavailable.InArrears", OcrMisconfigured, "account_in_arrears"),
    ("tencent", "UnsupportedRegion", OcrMisconfigured, "region_not_supported"),
    ("tencent", "InternalError", OcrUnavailable, "vendor_error"),
    ("tencent", "FailedOperation.EngineRecognizeTimeout", OcrUnavailable, "vendor_busy"),
    ("huawei", "AIS.0103", OcrRejected, "image_too_small"),
    ("huawei", "AIS.0104", OcrRejected, "wrong_document_type"),
    ("huawei", "ModelArts.4104", OcrRejected, "image_too_large"),
    ("huawei", "ModelArts.4204", OcrMisconfigured, "service_not_activated"),
    ("huawei", "ModelArts.4106", OcrMisconfigured, "account_in_arrears"),
    ("huawei", "ModelArts.4402", OcrUnavailable, "vendor_busy"),
    ("huawei", "APIG.0201", OcrUnavailable, "vendor_busy"),
]


@pytest.mark.parametrize(("vendor", "code", "cls", "ours"), VENDOR_ERRORS)
def test_vendor_error_codes_are_classified(emulator, vendor, code, cls, ours):
    action = "HKIDCardOCR" if vendor == "tencent" else "hk-id-card"
    emulator.script(action, VendorError(code, f"synthetic {code}"))
    provider = _tencent(emulator) if vendor == "tencent" else _huawei(emulator)
    with pytest.raises(cls) as caught:
        provider.recognize(HKID)
    assert type(caught.value) is cls
    assert (caught.value.vendor_code, caught.value.vendor_message, caught.value.code) == (
        code, f"synthetic {code}", ours,
    )  # fmt: skip


# --- Transport faults -----------------------------------------------------------------------------

FAULTS = [
    (Fault("http_error", status=502), OcrUnavailable, "vendor_busy", "vendor_error"),
    (Fault("malformed_json"), OcrUnknownOutcome, "malformed_response", "malformed_response"),
    (Fault("truncated"), OcrUnknownOutcome, "network", "network"),
    (Fault("reset"), OcrUnknownOutcome, "network", "network"),
    (Fault("timeout", seconds=5), OcrUnknownOutcome, "timeout", "timeout"),
    (Fault("oversized", size=1 << 20), OcrUnknownOutcome, "response_too_large", "response_too_large"),
    (Fault("oversized", size=1 << 20, declare_length=False), OcrUnknownOutcome, "response_too_large",
     "response_too_large"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "cls", "tencent_code", "huawei_code"), FAULTS, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("vendor", ["tencent", "huawei"])
def test_faults_are_classified(emulator, vendor, fault, cls, tencent_code, huawei_code):
    limits = dict(read_timeout=0.5, max_response_bytes=64 * 1024)
    provider = _tencent(emulator, **limits) if vendor == "tencent" else _huawei(emulator, **limits)
    emulator.script("HKIDCardOCR" if vendor == "tencent" else "hk-id-card", fault)
    with pytest.raises(cls) as caught:
        provider.recognize(HKID)
    assert type(caught.value) is cls
    assert caught.value.code == (tencent_code if vendor == "tencent" else huawei_code)
    assert emulator.count(outcome=f"fault:{fault.kind}") == 1


def test_connection_refused_is_retryable_and_not_an_unknown_outcome():
    with VendorEmulator() as emu:
        url = emu.url
    with pytest.raises(OcrUnavailable) as caught:
        TencentOcrProvider(tencent_config(url)).recognize(HKID)
    assert type(caught.value) is OcrUnavailable
    assert caught.value.code == "network"


def test_fail_rate_one_always_fails_and_is_classified():
    with VendorEmulator(fail_rate=1.0, seed=7) as emu:
        provider = _tencent(emu)
        for _ in range(4):
            with pytest.raises(OcrUnavailable):
                provider.recognize(HKID)
    assert emu.count(outcome="ok") == 0
    assert emu.count() == 4


# --- Random failures in every way (fail_rate with fail_ways) ----------------------------------------

WAYS = {
    "http_error": (OcrUnavailable, None),
    "malformed_json": (OcrUnknownOutcome, "malformed_response"),
    "truncated": (OcrUnknownOutcome, "network"),
    "oversized": (OcrUnknownOutcome, "response_too_large"),
    "timeout": (OcrUnknownOutcome, "timeout"),
    "reset": (OcrUnknownOutcome, "network"),
    "internal_error": (OcrUnavailable, "vendor_error"),
    "rate_limited": (OcrUnavailable, "rate_limited"),
    "unreadable": (OcrRejected, "unreadable_image"),
    "too_large": (OcrRejected, "image_too_large"),
}


def test_every_way_to_fail_is_listed_here():
    assert set(WAYS) == set(FAIL_WAYS)


@pytest.mark.parametrize("way", FAIL_WAYS)
@pytest.mark.parametrize("vendor", ["tencent", "huawei"])
def test_a_random_failure_in_each_way_is_classified_as_that_way(vendor, way):
    cls, ours = WAYS[way]
    with VendorEmulator(fail_rate=1.0, fail_ways=[way], seed=3) as emu:
        limits = dict(read_timeout=0.5, max_response_bytes=64 * 1024)
        provider = _tencent(emu, **limits) if vendor == "tencent" else _huawei(emu, **limits)
        with pytest.raises(cls) as caught:
            provider.recognize(HKID)
        labels = {call.outcome for call in emu.state.calls}
    assert type(caught.value) is cls
    if ours is not None:
        assert caught.value.code == ours
    if way in FAULT_KINDS:
        assert labels == {f"fault:{way}"}
    else:  # the vendor's own code, kept for the reviewer
        assert caught.value.vendor_code
        assert labels == {caught.value.vendor_code}


def test_the_ways_are_mixed_in_proportion():
    from ocr_providers.emulator.tencent import FAILURES

    with VendorEmulator(fail_rate=0.5, fail_ways=FAIL_WAYS, seed=11) as emu:
        picks = [emu.state.reply_for("HKIDCardOCR", FAILURES) for _ in range(2000)]
    failed = [p for p in picks if p is not None]
    assert 900 < len(failed) < 1100
    ways = Counter(p.kind if isinstance(p, Fault) else p.code for p in failed)
    assert set(ways) == set(FAULT_KINDS) | {error.code for error in FAILURES.values()}
    assert all(60 < n < 140 for n in ways.values()), ways  # about 100 of each of ten ways


def test_an_unknown_way_to_fail_is_refused():
    with pytest.raises(ValueError, match="unknown ways to fail \\['sleepy'\\]"):
        VendorEmulator(fail_rate=0.1, fail_ways=["timeout", "sleepy"])
    with pytest.raises(ValueError, match="no way to fail given"):
        VendorEmulator(fail_rate=0.1, fail_ways=[])
