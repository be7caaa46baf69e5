"""Checks on dates: each parses, they come in a plausible order, and the document is still valid."""

from __future__ import annotations

from datetime import date, timedelta

from kyc.checks.base import FAIL, NOT_AVAILABLE, PASS, WARN, CheckInput, CheckOutcome
from kyc.checks.text import iso_date, join_words
from ocr_providers.documents import DocumentType, Side

__all__ = ["check_dates_plausible", "check_not_expired"]

DATES_PLAUSIBLE = "dates_plausible"
NOT_EXPIRED = "not_expired"
DATE_NAMES = ("birth_date", "first_issue_date", "issue_date", "expiry_date")
LABELS = {
    "birth_date": "birth date",
    "first_issue_date": "first issue date",
    "issue_date": "issue date",
    "expiry_date": "expiry date",
}
MAX_AGE_YEARS = 120
# Passports and both permits are issued for at most ten years (less a day); allow a month of slack.
MAX_VALIDITY = timedelta(days=3653 + 31)

# Each problem: a stable key for ``data`` and the reviewer's sentence.
PROBLEMS = {
    "birth_in_future": "the birth date is in the future",
    "too_old": f"the holder would be over {MAX_AGE_YEARS} years old",
    "first_issue_before_birth": "the first issue date is before the birth date",
    "first_issue_after_issue": "the first issue date is after the issue date",
    "issue_not_after_birth": "the issue date is not after the birth date",
    "issue_in_future": "the issue date is in the future",
    "expiry_not_after_issue": "the expiry date is not after the issue date",
    "validity_too_long": "the validity period is longer than ten years",
}


def _read(inp: CheckInput) -> list[str]:
    """Date fields this side has a value or a reading for."""
    return [n for n in DATE_NAMES if n in inp.fields and (inp.value(n) is not None or inp.fields[n].raw)]


def _age_years(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _birth_problems(d: dict[str, date], today: date) -> list[str]:
    birth = d.get("birth_date")
    if birth is None:
        return []
    found = ["birth_in_future"] if birth > today else []
    if _age_years(birth, today) > MAX_AGE_YEARS:
        found.append("too_old")
    # The first issue date is month-precise (stored as the 1st), so compare months.
    if "first_issue_date" in d and d["first_issue_date"] < birth.replace(day=1):
        found.append("first_issue_before_birth")
    if "issue_date" in d and d["issue_date"] <= birth:
        found.append("issue_not_after_birth")
    return found


def _issue_problems(d: dict[str, date], today: date) -> list[str]:
    issue, expiry, first = d.get("issue_date"), d.get("expiry_date"), d.get("first_issue_date")
    found = []
    if first is not None and issue is not None and first > issue:
        found.append("first_issue_after_issue")
    if issue is not None and issue > today:
        found.append("issue_in_future")
    if issue is not None and expiry is not None:
        if expiry <= issue:
            found.append("expiry_not_after_issue")
        elif expiry - issue > MAX_VALIDITY:
            found.append("validity_too_long")
    return found


def check_dates_plausible(inp: CheckInput) -> CheckOutcome:
    """Every date parses; birth < (first) issue < expiry; nothing issued in the future; age 0-120."""
    names = _read(inp)
    if not names:
        return CheckOutcome(DATES_PLAUSIBLE, NOT_AVAILABLE, "No dates were read on this document side.")
    parsed = {n: iso_date(inp.value(n)) for n in names}
    dates = {n: d for n, d in parsed.items() if d is not None}
    unparsed = [n for n in names if n not in dates]
    problems = _birth_problems(dates, inp.today) + _issue_problems(dates, inp.today)
    data = {"checked": names, "unparsed": unparsed, "problems": problems}
    sentences = [PROBLEMS[p] for p in problems]
    if unparsed:
        sentences.insert(0, f"the {join_words([LABELS[n] for n in unparsed])} did not read as a date")
    if sentences:
        detail = "; ".join(sentences)
        return CheckOutcome(DATES_PLAUSIBLE, FAIL, detail[0].upper() + detail[1:] + ".", data)
    detail = f"The {join_words([LABELS[n] for n in names])} parse and are plausible."
    return CheckOutcome(DATES_PLAUSIBLE, PASS, detail, data)


def _expiry(inp: CheckInput) -> date | CheckOutcome:
    """The expiry date, or the not-available outcome saying why there is none to check."""
    if inp.document_type == DocumentType.HK_ID_CARD:
        return CheckOutcome(NOT_EXPIRED, NOT_AVAILABLE, "The Hong Kong identity card carries no expiry date.")
    if inp.side != Side.FRONT:
        return CheckOutcome(NOT_EXPIRED, NOT_AVAILABLE, "The expiry date is on the front side.")
    if inp.value("expiry_date") is None:
        return CheckOutcome(NOT_EXPIRED, NOT_AVAILABLE, "The expiry date was not read.")
    expiry = iso_date(inp.value("expiry_date"))
    if expiry is None:
        return CheckOutcome(NOT_EXPIRED, NOT_AVAILABLE, "The expiry date did not read as a date.")
    return expiry


def check_not_expired(inp: CheckInput) -> CheckOutcome:
    """The document is valid today (the expiry day itself included); warn within the configured window."""
    expiry = _expiry(inp)
    if isinstance(expiry, CheckOutcome):
        return expiry
    window = inp.expiry_warning_days
    data = {"expired": expiry < inp.today, "expiring_soon": False, "warning_days": window}
    if expiry < inp.today:
        return CheckOutcome(NOT_EXPIRED, FAIL, "The document has expired.", data)
    if (expiry - inp.today).days < window:
        data["expiring_soon"] = True
        return CheckOutcome(NOT_EXPIRED, WARN, f"The document expires within {window} days.", data)
    return CheckOutcome(NOT_EXPIRED, PASS, f"The document is valid for at least {window} more days.", data)
