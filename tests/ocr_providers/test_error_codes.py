"""Every final code a client can raise says what becomes of the document: ``unreadable`` (ask for another
photo) or ``failed`` (for staff). A code in neither set fell through to ``failed`` unnoticed: the vendors'
own code for a blurred or undecodable photo (``unreadable_image``) once did."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ocr_providers
from ocr_providers import FAILED_CODES, UNREADABLE_CODES, OcrRejected
from ocr_providers.huawei import errors as huawei_errors
from ocr_providers.tencent import errors as tencent_errors

PACKAGE = Path(ocr_providers.__file__).parent


def _mapped() -> set[str]:
    tables = (tencent_errors.EXACT, tencent_errors.PREFIXES, huawei_errors.EXACT)
    return {code for table in tables for cls, code in table.values() if issubclass(cls, OcrRejected)}


def _raised() -> set[str]:
    """The ``code=`` of every ``OcrRejected(...)`` written in the package's source."""
    codes = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "OcrRejected":
                codes |= {k.value.value for k in node.keywords if k.arg == "code" and isinstance(k.value, ast.Constant)}
    return codes


def test_the_scan_finds_the_codes_it_should():
    # so that the next test cannot pass on an empty scan
    assert {"unreadable_image", "image_too_large", "mrz_mismatch", "wrong_side"} <= _mapped()
    assert {"not_a_document", "unreadable_image", "image_too_small"} <= _raised()


@pytest.mark.parametrize("code", sorted(_mapped() | _raised() | {OcrRejected.code}))
def test_every_final_code_is_unreadable_or_failed(code):
    assert (code in UNREADABLE_CODES) != (code in FAILED_CODES), code


def test_the_two_sets_name_no_code_that_no_client_raises():
    assert _mapped() | _raised() | {OcrRejected.code} == (UNREADABLE_CODES | FAILED_CODES)
