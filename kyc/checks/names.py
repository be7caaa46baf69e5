"""Checks on names: HKID telecodes against the names, and declared data against the document."""

from __future__ import annotations

import re
from collections.abc import Callable

from kyc.checks.base import FAIL, NOT_AVAILABLE, PASS, WARN, CheckInput, CheckOutcome
from kyc.checks.text import iso_date, join_words, name_tokens, names_agree
from ocr_providers.documents import DocumentType, Side
from ocr_providers.local import telecode

__all__ = ["check_declared_data_matches", "check_telecode_matches_name", "document_name_en"]

TELECODE = "telecode_matches_name"
DECLARED = "declared_data_matches"
LABELS = {"name_zh": "Chinese name", "name_en": "English name", "birth_date": "birth date",
          "nationality": "nationality"}  # fmt: skip
# Spellings of Chinese nationality an applicant or a vendor may use; all compare as CHN.
_CHINESE = frozenset({"CHN", "CHINA", "CHINESE", "PRC", "中国", "中國", "中华人民共和国", "中華人民共和國"})
_SAME, _DIFFERENT, _VARIANT = "same", "different", "variant"


def _chinese(text: str) -> str:
    return re.sub(r"[\s·・]", "", text)


# --- telecodes ---------------------------------------------------------------------------------------


def _telecode_findings(groups: list[str], name_zh: str | None, name_en: str | None) -> dict[str, bool | None]:
    decoded = telecode.decode(groups)
    matches = None
    if name_zh is not None:
        # A count mismatch is a failure even when a group is unknown to the table.
        matches = len(groups) == len(_chinese(name_zh)) and (decoded is None or decoded == _chinese(name_zh))
    syllables = None if name_en is None else len(name_tokens(name_en)) == len(groups)
    return {"decoded": decoded is not None, "matches_name_zh": matches, "syllables_match": syllables}


def _telecode_outcome(found: dict[str, bool | None]) -> CheckOutcome:
    data = {"groups_well_formed": True, **found}
    if found["matches_name_zh"] is False:
        return CheckOutcome(TELECODE, FAIL, "The telecodes do not decode to the Chinese name.", data)
    notes = []
    if not found["decoded"]:
        notes.append("a telecode is not in the Chinese Commercial Code table, so compare it by hand")
    if found["syllables_match"] is False:
        notes.append("the English name has a different number of syllables than there are telecodes")
    if notes:
        detail = "; ".join(notes)
        return CheckOutcome(TELECODE, WARN, detail[0].upper() + detail[1:] + ".", data)
    phrases = {
        "matches_name_zh": "decode to the Chinese name",
        "syllables_match": "match the English syllables",
    }
    parts = [phrase for key, phrase in phrases.items() if found[key]]
    return CheckOutcome(TELECODE, PASS, f"The telecodes {join_words(parts)}.", data)


def check_telecode_matches_name(inp: CheckInput) -> CheckOutcome:
    """HKID telecodes decode to the Chinese name (fail) and count the English syllables (warn)."""
    if (inp.document_type, inp.side) != (DocumentType.HK_ID_CARD, Side.FRONT):
        return CheckOutcome(TELECODE, NOT_AVAILABLE, "Only the Hong Kong identity card carries telecodes.")
    codes = inp.text("telecode")
    if codes is None:
        return CheckOutcome(TELECODE, NOT_AVAILABLE, "The telecodes were not read.")
    name_zh, name_en = inp.text("name_zh"), inp.text("name_en")
    if name_zh is None and name_en is None:
        return CheckOutcome(TELECODE, NOT_AVAILABLE, "Neither the Chinese nor the English name was read.")
    groups = telecode.split_groups(codes)
    if groups is None:
        detail = "The telecodes are not groups of four digits, so compare them by hand."
        return CheckOutcome(TELECODE, WARN, detail, {"groups_well_formed": False})
    return _telecode_outcome(_telecode_findings(groups, name_zh, name_en))


# --- declared data -----------------------------------------------------------------------------------


def document_name_en(inp: CheckInput) -> str | None:
    """The English name as printed on this side, whatever the field is called there."""
    if inp.document_type == DocumentType.CN_PASSPORT:
        parts = [inp.text("surname_en"), inp.text("given_names_en")]
        return " ".join(p for p in parts if p) or None
    return inp.text("hkid_name" if inp.side == Side.BACK else "name_en")


def _nationality(text: str) -> str:
    upper = re.sub(r"\s+", " ", text.strip().upper())
    return "CHN" if upper in _CHINESE else upper


def _compare_name_zh(declared: str, printed: str) -> str:
    declared, printed = _chinese(declared), _chinese(printed)
    if declared == printed:
        return _SAME
    # Without a variant table we cannot tell 陳 from 陈; same length is left to the reviewer.
    return _VARIANT if len(declared) == len(printed) else _DIFFERENT


def _compare_dates(declared: str, printed: str) -> str | None:
    first, second = iso_date(declared), iso_date(printed)
    if first is None or second is None:
        return None
    return _SAME if first == second else _DIFFERENT


_COMPARE: dict[str, Callable[[str, str], str | None]] = {
    "name_zh": _compare_name_zh,
    "name_en": lambda a, b: _SAME if names_agree(a, b) else _DIFFERENT,
    "birth_date": _compare_dates,
    "nationality": lambda a, b: _SAME if _nationality(a) == _nationality(b) else _DIFFERENT,
}


def _printed(inp: CheckInput) -> dict[str, str | None]:
    return {
        "name_zh": inp.text("name_zh"),
        "name_en": document_name_en(inp),
        "birth_date": inp.text("birth_date"),
        "nationality": inp.text("nationality"),  # only the passport prints it
    }


def check_declared_data_matches(inp: CheckInput) -> CheckOutcome:
    """What the applicant declared (names, birth date, nationality) agrees with this document side."""
    # Stored declared values are strings, but a date or None from a caller must not crash the check.
    given = {k: str(v).strip() for k, v in inp.declared.items() if k in _COMPARE and v is not None}
    declared = {k: v for k, v in given.items() if v}
    if not declared:
        return CheckOutcome(DECLARED, NOT_AVAILABLE, "The applicant declared no data to compare.")
    printed = _printed(inp)
    verdicts = {k: _COMPARE[k](v, printed[k] or "") for k, v in declared.items() if printed[k]}
    verdicts = {k: v for k, v in verdicts.items() if v is not None}
    if not verdicts:
        return CheckOutcome(DECLARED, NOT_AVAILABLE, "None of the declared data was read on this side.")
    data = {"compared": list(verdicts), **{f"{k}_agrees": v == _SAME for k, v in verdicts.items()}}
    differ = [LABELS[k] for k, v in verdicts.items() if v == _DIFFERENT]
    if differ:
        verb = "differs" if len(differ) == 1 else "differ"
        detail = f"The declared {join_words(differ)} {verb} from the document."
        return CheckOutcome(DECLARED, FAIL, detail, data)
    if _VARIANT in verdicts.values():
        detail = ("The declared Chinese name differs from the document in some characters, perhaps only "
                  "simplified against traditional forms; compare by hand.")  # fmt: skip
        return CheckOutcome(DECLARED, WARN, detail, data)
    labels = join_words([LABELS[k] for k in verdicts])
    verb = "agrees" if len(verdicts) == 1 else "agree"
    return CheckOutcome(DECLARED, PASS, f"The declared {labels} {verb} with the document.", data)
