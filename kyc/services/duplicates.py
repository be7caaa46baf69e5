"""Does another applicant already hold this document number? An indexed lookup on the blind index."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from kyc import crypto
from kyc.checks.numbers import HOLDERS_SHOWN
from kyc.models import Applicant, Case, Document, ExtractedField
from kyc.rows import Converters, column, converted, converters_for, fetch, param, table


@cache
def _holders_read() -> tuple[str, Converters]:
    """Applicants other than one whose current fields carry a blind index: one statement per process
    (every OCR job runs it), through the field's index."""
    holder = column(Case, "applicant", "c")
    sql = (
        f"SELECT DISTINCT {holder} FROM {table(ExtractedField)} f "  # noqa: S608 - names from the models' meta
        f"JOIN {table(Document)} d ON {column(Document, 'id', 'd')} = {column(ExtractedField, 'document', 'f')} "
        f"JOIN {table(Case)} c ON {column(Case, 'id', 'c')} = {column(Document, 'case', 'd')} "
        f"WHERE {column(ExtractedField, 'blind_index', 'f')} = %s AND {column(ExtractedField, 'is_current', 'f')} = %s "
        f"AND {holder} <> %s LIMIT {HOLDERS_SHOWN + 1}"
    )
    return sql, converters_for([Case._meta.get_field("applicant")])


def duplicate_lookup_for(applicant: Applicant) -> Callable[[str, str], list[str]]:
    """A function ``(namespace, number) -> ids of OTHER applicants holding that number``: at most
    ``HOLDERS_SHOWN + 1`` of them (one more than shown tells the check there are more)."""

    def lookup(namespace: str, number: str) -> list[str]:
        sql, converters = _holders_read()
        params = [crypto.blind_index(namespace, number), True, param(Case, "applicant", applicant.pk)]
        return sorted(str(converted(converters, row)[0]) for row in fetch(sql, params))

    return lookup
