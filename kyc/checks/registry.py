"""The fixed list of checks and ``run_checks``, which runs them all in that order."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kyc.checks.base import FAIL, CheckInput, CheckOutcome
from kyc.checks.dates import DATES_PLAUSIBLE, NOT_EXPIRED, check_dates_plausible, check_not_expired
from kyc.checks.machine_code import (
    CHECK_DIGITS,
    MATCHES_VISUAL,
    check_machine_code_check_digits,
    check_machine_code_matches_visual,
)
from kyc.checks.names import DECLARED, TELECODE, check_declared_data_matches, check_telecode_matches_name
from kyc.checks.numbers import (
    DUPLICATE,
    HKID_CHECK_DIGIT,
    check_duplicate_document_number,
    check_hkid_check_digit,
)
from kyc.checks.vendor import VENDOR_WARNING, check_vendor_warnings

__all__ = ["CHECKS", "CODES", "run_checks"]

logger = logging.getLogger(__name__)

Check = Callable[[CheckInput], CheckOutcome | list[CheckOutcome]]

# (code, function) in the order a reviewer reads them. ``vendor_warning`` outcomes are coded
# ``vendor_warning.<warning>`` (or plain ``vendor_warning`` when the vendor raised none).
CHECKS: tuple[tuple[str, Check], ...] = (
    (CHECK_DIGITS, check_machine_code_check_digits),
    (HKID_CHECK_DIGIT, check_hkid_check_digit),
    (DATES_PLAUSIBLE, check_dates_plausible),
    (NOT_EXPIRED, check_not_expired),
    (MATCHES_VISUAL, check_machine_code_matches_visual),
    (TELECODE, check_telecode_matches_name),
    (DECLARED, check_declared_data_matches),
    (DUPLICATE, check_duplicate_document_number),
    (VENDOR_WARNING, check_vendor_warnings),
)
CODES: tuple[str, ...] = tuple(code for code, _ in CHECKS)


def _run_one(code: str, check: Check, inp: CheckInput) -> list[CheckOutcome]:
    try:
        outcome = check(inp)
    except Exception as exc:
        # Fail closed: a crashed check sends the document to review instead of passing silently. The
        # exception's message may quote field values, so only its type is logged.
        logger.error("document check %s raised %s", code, type(exc).__name__)
        return [CheckOutcome(code, FAIL, "This check could not run; review the document by hand.",
                             {"error": type(exc).__name__})]  # fmt: skip
    return outcome if isinstance(outcome, list) else [outcome]


def run_checks(inp: CheckInput) -> list[CheckOutcome]:
    """Every check over one document side, in the order of ``CHECKS``."""
    return [outcome for code, check in CHECKS for outcome in _run_one(code, check, inp)]
