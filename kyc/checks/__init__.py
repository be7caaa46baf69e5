"""Our own checks over a normalised OCR result: pure functions, no database.

Each ``check_<name>(inp)`` takes a :class:`CheckInput` for one document side and returns a
:class:`CheckOutcome` (``vendor_warning`` returns one per warning) whose ``result`` is ``pass``,
``fail``, ``warn`` or ``not_available``. The pipeline calls :func:`run_checks`::

    outcomes = run_checks(CheckInput(document_type="hk_id_card", side="front", fields=result.fields,
                                     warnings=result.warnings, today=today, duplicate_lookup=lookup))
"""

from kyc.checks.base import (
    FAIL,
    NOT_AVAILABLE,
    PASS,
    RESULTS,
    WARN,
    CheckInput,
    CheckOutcome,
    DuplicateLookup,
)
from kyc.checks.dates import check_dates_plausible, check_not_expired
from kyc.checks.machine_code import check_machine_code_check_digits, check_machine_code_matches_visual
from kyc.checks.names import check_declared_data_matches, check_telecode_matches_name
from kyc.checks.numbers import check_duplicate_document_number, check_hkid_check_digit
from kyc.checks.registry import CHECKS, CODES, run_checks
from kyc.checks.vendor import check_vendor_warnings

__all__ = [
    "CHECKS",
    "CODES",
    "FAIL",
    "NOT_AVAILABLE",
    "PASS",
    "RESULTS",
    "WARN",
    "CheckInput",
    "CheckOutcome",
    "DuplicateLookup",
    "check_dates_plausible",
    "check_declared_data_matches",
    "check_duplicate_document_number",
    "check_hkid_check_digit",
    "check_machine_code_check_digits",
    "check_machine_code_matches_visual",
    "check_not_expired",
    "check_telecode_matches_name",
    "check_vendor_warnings",
    "run_checks",
]
