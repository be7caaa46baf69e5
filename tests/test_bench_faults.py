"""The fault benchmark's judge of a document's ending (``bench.pipeline_faults._wrong_ending``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.pipeline_faults import MAX_ATTEMPTS, _wrong_ending


def attempt(outcome, code="", vendor_code="", provider="tencent"):
    return SimpleNamespace(outcome=outcome, error_code=code, vendor_code=vendor_code, provider=provider)


BLUR = attempt("final_error", "unreadable_image", "FailedOperation.ImageBlur")
LARGE = attempt("final_error", "image_too_large", "FailedOperation.ImageSizeTooLarge")
BUSY = attempt("retryable_error", "vendor_busy")


@pytest.mark.parametrize(
    ("status", "reason", "attempts"),
    [
        ("extracted", "", [BUSY, attempt("succeeded")]),
        ("unreadable", "Blurred. [tencent FailedOperation.ImageBlur]", [BUSY, BLUR]),
        ("failed", "Too large. [tencent FailedOperation.ImageSizeTooLarge]", [LARGE]),
        ("failed", "retryable error vendor_busy from tencent; no attempts left on any provider", [BUSY] * MAX_ATTEMPTS),
    ],
)
def test_a_right_ending_passes(status, reason, attempts):
    assert _wrong_ending(status, reason, attempts) is None


@pytest.mark.parametrize(
    ("status", "reason", "attempts", "problem"),
    [
        ("failed", "Blurred. [tencent FailedOperation.ImageBlur]", [BLUR], "unreadable_image"),
        ("unreadable", "Too large. [tencent FailedOperation.ImageSizeTooLarge]", [LARGE], "means failed"),
        ("unreadable", "Blurred.", [BLUR], "does not name"),
        ("extracted", "", [BUSY], "last attempt ended retryable_error"),
        ("failed", "no attempts left", [BUSY] * (MAX_ATTEMPTS - 1), "after 3 attempts"),
        ("failed", "no attempts left", [], "without an attempt"),
    ],
)
def test_a_wrong_ending_is_named(status, reason, attempts, problem):
    assert problem in (_wrong_ending(status, reason, attempts) or "")
