"""Does another applicant already hold this document number? An indexed lookup on the blind index, which
reads at most ``ROWS_READ`` of the documents carrying the number: a number on thousands of documents (a
specimen a partner uploads over and over) costs each new job no more than that, and the check then says
there may be more holders than it names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from kyc import crypto
from kyc.checks.base import Holders
from kyc.checks.numbers import HOLDERS_SHOWN
from kyc.models import Case, Document, ExtractedField
from kyc.rows import Converters, column, converted, converters_for, fetch, param, table

ROWS_READ = 500  # fields carrying the number read at most, per lookup


@cache
def _holders_read() -> tuple[str, Converters]:
    """Applicants other than the holder of a document whose current fields carry a blind index: one
    statement per process (every OCR job runs it), through the field's index. The applicant left out is
    given by one of their documents, so the pipeline's finish can send it before it has read the document.
    It reads at most ``ROWS_READ`` matching fields and answers, with each holder (at most
    ``HOLDERS_SHOWN + 1``), how many it read: as many as it may read means it stopped early."""
    holder = column(Case, "applicant", "c")
    own = (
        f"(SELECT {column(Case, 'applicant', 'c2')} FROM {table(Case)} c2 "  # noqa: S608
        f"JOIN {table(Document)} d2 ON {column(Document, 'case', 'd2')} = {column(Case, 'id', 'c2')} "
        f"WHERE {column(Document, 'id', 'd2')} = %s)"
    )
    seen = (
        f"SELECT {holder} AS holder FROM {table(ExtractedField)} f "  # noqa: S608 - names from the models' meta
        f"JOIN {table(Document)} d ON {column(Document, 'id', 'd')} = {column(ExtractedField, 'document', 'f')} "
        f"JOIN {table(Case)} c ON {column(Case, 'id', 'c')} = {column(Document, 'case', 'd')} "
        f"WHERE {column(ExtractedField, 'blind_index', 'f')} = %s AND {column(ExtractedField, 'is_current', 'f')} = %s "
        f"AND {holder} <> {own} LIMIT {ROWS_READ}"
    )
    sql = (
        f"WITH seen AS ({seen}) SELECT holder, (SELECT COUNT(*) FROM seen) "  # noqa: S608
        f"FROM (SELECT DISTINCT holder FROM seen LIMIT {HOLDERS_SHOWN + 1}) shown"
    )
    return sql, converters_for([Case._meta.get_field("applicant")])


def holders_read(namespace: str, number: str, document_id: Any) -> tuple[str, list[Any]]:
    """The statement that reads which applicants other than the holder of document ``document_id`` hold
    ``number`` (``holders`` makes the lookup's answer of its rows): for a caller that sends it with
    other statements, ahead of the check (``duplicate_lookup_for``'s ``known``)."""
    sql, _ = _holders_read()
    return sql, [crypto.blind_index(namespace, number), True, param(Document, "id", document_id)]


def holders(rows: Sequence[Sequence[Any]]) -> Holders:
    """The lookup's answer from the rows of ``holders_read`` (``partial`` when it stopped reading early)."""
    _, converters = _holders_read()
    found = Holders(sorted(str(converted(converters, row[:1])[0]) for row in rows))
    found.partial = bool(rows) and rows[0][1] >= ROWS_READ
    return found


def duplicate_lookup_for(
    document_id: Any, known: Mapping[tuple[str, str], list[str]] | None = None
) -> Callable[[str, str], list[str]]:
    """A function ``(namespace, number) -> ids of applicants other than the document's holder holding
    that number``: at most ``HOLDERS_SHOWN + 1`` of them (one more than shown tells the check there are
    more), a ``Holders`` saying whether the lookup read every document carrying it. ``known``: the
    answers already read for some ``(namespace, number)`` (``holders_read``)."""

    def lookup(namespace: str, number: str) -> list[str]:
        if known and (namespace, number) in known:
            return known[namespace, number]
        return holders(fetch(*holders_read(namespace, number, document_id)))

    return lookup
