"""Checks on the machine-readable code: its check digits, and its agreement with the visual zone.

The passport's TD3 zone is the ``mrz`` field, the permits' codes are ``machine_code``; both are
re-parsed here with ``ocr_providers.machine_codes`` rather than trusting what a vendor says it read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kyc.checks.base import FAIL, NOT_AVAILABLE, PASS, CheckInput, CheckOutcome
from kyc.checks.text import iso_date, join_words, name_letters
from ocr_providers.documents import DocumentType, Side
from ocr_providers.machine_codes import (
    MachineCode,
    MachineCodeError,
    gbk_letters_decode,
    parse_eep,
    parse_mtp,
    parse_td3,
)

__all__ = ["check_machine_code_check_digits", "check_machine_code_matches_visual", "parse_machine_code"]

CHECK_DIGITS = "machine_code_check_digits"
MATCHES_VISUAL = "machine_code_matches_visual"

_PARSERS: dict[DocumentType, tuple[str, Callable[[str], MachineCode], str]] = {
    DocumentType.CN_PASSPORT: ("mrz", parse_td3, "passport (TD3)"),
    DocumentType.EXIT_ENTRY_PERMIT: ("machine_code", parse_eep, "Exit-Entry Permit"),
    DocumentType.MAINLAND_TRAVEL_PERMIT: ("machine_code", parse_mtp, "Mainland Travel Permit"),
}
_DIGIT_LABELS = {
    "document_number": "document number",
    "birth_date": "birth date",
    "expiry_date": "expiry date",
    "optional": "optional data",
    "composite": "composite",
    "line2": "second line",
}
LABELS = {
    "document_number": "document number",
    "birth_date": "birth date",
    "expiry_date": "expiry date",
    "sex": "sex",
    "name": "name",
    "issue_times": "issue count",
}


def _absent(inp: CheckInput, code: str) -> CheckOutcome | None:
    """A not-available outcome when this side has no machine code or it was not read."""
    if inp.document_type not in _PARSERS or inp.side != Side.FRONT:
        return CheckOutcome(code, NOT_AVAILABLE, "There is no machine-readable code on this document side.")
    if inp.text(_PARSERS[inp.document_type][0]) is None:
        return CheckOutcome(code, NOT_AVAILABLE, "The machine-readable code was not read.")
    return None


def parse_machine_code(inp: CheckInput) -> MachineCode | None:
    """The side's machine code, parsed; ``None`` if absent or not of the right shape."""
    if _absent(inp, CHECK_DIGITS):
        return None
    field_name, parser, _ = _PARSERS[inp.document_type]
    try:
        return parser(inp.text(field_name) or "")
    except MachineCodeError:
        return None


def check_machine_code_check_digits(inp: CheckInput) -> CheckOutcome:
    """Every ICAO 9303 check digit of the passport zone or the permit code validates."""
    absent = _absent(inp, CHECK_DIGITS)
    if absent:
        return absent
    code = parse_machine_code(inp)
    if code is None:
        kind = _PARSERS[inp.document_type][2]
        detail = f"The machine-readable code does not have the shape of a {kind} code (length or characters)."
        return CheckOutcome(CHECK_DIGITS, FAIL, detail, {"parsed": False})
    data = {"parsed": True, "checks": dict(code.checks)}
    failed = [_DIGIT_LABELS.get(name, name) for name, ok in code.checks.items() if not ok]
    if failed:
        detail = f"The machine-readable code's check digit for the {join_words(failed)} does not validate."
        return CheckOutcome(CHECK_DIGITS, FAIL, detail, data)
    return CheckOutcome(CHECK_DIGITS, PASS, f"All {len(code.checks)} check digits validate.", data)


# --- agreement with the visual zone -----------------------------------------------------------------


def _independent(inp: CheckInput, name: str) -> str | None:
    """The visual field's text, unless it was itself filled in from the machine code."""
    return None if inp.source(name) == "machine_code" else inp.text(name)


def _same_date(coded: str | None, visual: str | None) -> bool | None:
    # Machine codes carry two-digit years, so compare YYMMDD: a 1920 birth must not read as 2020.
    day = iso_date(visual) if visual else None
    if day is None:
        return None
    return coded is not None and coded[2:] == day.isoformat()[2:]


def _same_name(coded: str, visual: str, full: bool) -> bool:
    coded, visual = name_letters(coded), name_letters(visual)
    # A name longer than the zone is cut off; a full zone only has to be a prefix of the visual name.
    return coded == visual or (full and bool(coded) and visual.startswith(coded))


def _compare_common(inp: CheckInput, code: MachineCode) -> dict[str, bool | None]:
    number = _independent(inp, "document_number")
    coded_number = code.fields.get("document_number") or ""
    return {
        "document_number": None if number is None else number.replace(" ", "").upper() == coded_number,
        "birth_date": _same_date(code.fields.get("birth_date"), _independent(inp, "birth_date")),
        "expiry_date": _same_date(code.fields.get("expiry_date"), _independent(inp, "expiry_date")),
    }


def _compare_sex(inp: CheckInput, code: MachineCode) -> bool | None:
    sex = _independent(inp, "sex")
    return None if sex is None else sex.upper() == (code.fields.get("sex") or "")


def _coded_latin_name(code: MachineCode) -> tuple[str, bool]:
    name_zone = code.lines[0][5:] if code.kind == "td3" else code.lines[2]
    coded = f"{code.fields.get('surname') or ''} {code.fields.get('given_names') or ''}"
    return coded, not name_zone.endswith("<")


def _coded_chinese_name(code: MachineCode) -> str | None:
    if code.kind == "mtp":
        return code.fields.get("name_zh")
    # Passports carry the first characters of the name as GBK letters in the optional field; other
    # optional data decodes to nothing or to non-Han text and is then left out of the comparison.
    decoded = gbk_letters_decode(code.fields.get("optional") or "")
    return decoded if decoded and all("\u4e00" <= c <= "\u9fff" for c in decoded) else None


def _compare_name(inp: CheckInput, code: MachineCode) -> bool | None:
    parts = ("surname_en", "given_names_en") if code.kind == "td3" else ("name_en",)
    latin = " ".join(filter(None, (_independent(inp, p) for p in parts))) or None
    chinese, coded_chinese = _independent(inp, "name_zh"), _coded_chinese_name(code)
    results: list[bool] = []
    if latin is not None:
        coded, full = _coded_latin_name(code)
        results.append(_same_name(coded, latin, full))
    if chinese is not None and coded_chinese is not None:
        results.append(chinese.replace(" ", "").startswith(coded_chinese))
    return all(results) if results else None


def _compare_issue_times(inp: CheckInput, code: MachineCode) -> bool | None:
    visual, coded = _independent(inp, "issue_times"), code.fields.get("issue_times") or ""
    if visual is None or not visual.isdigit():
        return None
    return coded.isdigit() and int(coded) == int(visual)


def _comparisons(inp: CheckInput, code: MachineCode) -> dict[str, bool | None]:
    results = _compare_common(inp, code)
    if code.kind in ("td3", "mtp"):  # the EEP line carries neither sex nor name
        results["sex"] = _compare_sex(inp, code)
        results["name"] = _compare_name(inp, code)
    if code.kind == "mtp":
        results["issue_times"] = _compare_issue_times(inp, code)
    return results


def _labels(names: Sequence[str]) -> str:
    return join_words([LABELS[n] for n in names])


def check_machine_code_matches_visual(inp: CheckInput) -> CheckOutcome:
    """The machine code's number, birth date, expiry, sex and name agree with the printed fields."""
    absent = _absent(inp, MATCHES_VISUAL)
    if absent:
        return absent
    code = parse_machine_code(inp)
    if code is None:
        return CheckOutcome(MATCHES_VISUAL, NOT_AVAILABLE, "The machine-readable code could not be parsed.")
    results = _comparisons(inp, code)
    compared = [name for name, ok in results.items() if ok is not None]
    differ = [name for name in compared if not results[name]]
    data = {"compared": compared, "differ": differ, "skipped": [n for n in results if n not in compared]}
    if not compared:
        detail = "No visual-zone field was read independently of the machine-readable code."
        return CheckOutcome(MATCHES_VISUAL, NOT_AVAILABLE, detail, data)
    if differ:
        verb = "differs" if len(differ) == 1 else "differ"
        detail = f"The machine-readable code's {_labels(differ)} {verb} from the visual zone."
        return CheckOutcome(MATCHES_VISUAL, FAIL, detail, data)
    detail = f"The machine-readable code agrees with the visual zone on {_labels(compared)}."
    return CheckOutcome(MATCHES_VISUAL, PASS, detail, data)
