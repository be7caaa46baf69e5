"""Row writes and reads for the OCR pipeline's hot path, without the ORM's per-call query building.

A job writes about a dozen rows: its attempt, the fields and checks it read, a portrait, status changes
and their audit events. ``Model.save`` and ``QuerySet.bulk_create`` build and compile their SQL again on
every call and walk the model's relations first. ``insert_rows`` and ``update_row`` keep what makes the
ORM's writes correct, each field's ``pre_save`` (``auto_now`` and ``auto_now_add`` stamp as usual) and
``get_db_prep_save`` (UUIDs, JSON, encrypted fields and datetimes are stored exactly as the ORM stores
them, on PostgreSQL and SQLite alike), and reuse the statement text per model and column list, which
also lets psycopg keep it prepared. They send no ``pre_save``/``post_save`` signals (the project
connects none) and run no validation, like ``bulk_create`` and ``update()``.

The reads (``table``, ``column``, ``fetch``, ``fetch_together``, ``select_list``, ``from_row``,
``split_row``, ``instances``, ``converters_for``, ``converted``) serve the few statements the pipeline
writes itself, built once per process: each value goes through the converters the ORM applies (the
backend's, then the field's: aware datetimes on SQLite, UUIDs, JSON, decryption), and instances are built
with ``Model.from_db``, as a queryset builds them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from psycopg.pq import TransactionStatus

_IDLE = TransactionStatus.IDLE


@cache
def _insert_columns(model: type[models.Model]) -> tuple[Any, ...]:
    """Every concrete field but an auto-incremented primary key (the database numbers it)."""
    auto = model._meta.auto_field
    return tuple(f for f in model._meta.concrete_fields if f is not auto)


@cache
def _insert_sql(model: type[models.Model], rows: int, returning: bool) -> str:
    quote = connection.ops.quote_name
    fields = _insert_columns(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Table and column names from the model's own meta, quoted; every value is a parameter.
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
    return sql + f" RETURNING {quote(model._meta.pk.column)}" if returning else sql  # type: ignore[arg-type]


# psycopg parses a statement's text for its placeholders on every execute, and caches the result only for
# a statement of at most 4096 bytes and 50 parameters (``psycopg._queries``): a longer multi-row INSERT is
# parsed again by a Python loop each time. Inserts are cut into statements within both limits, which go
# out in the same round trip (``deferred_writes``).
CACHED_STATEMENT_LENGTH = 4096
CACHED_STATEMENT_PARAMS = 50


@cache
def _rows_per_insert(model: type[models.Model], returning: bool) -> int:
    """How many rows one INSERT of ``model`` carries: as many as keep it within psycopg's cache, at least one."""
    width = len(_insert_columns(model))
    rows = max(1, CACHED_STATEMENT_PARAMS // width)
    while rows > 1 and len(_insert_sql(model, rows, returning)) > CACHED_STATEMENT_LENGTH:
        rows -= 1
    return rows


def _db() -> Any:
    """The default database's connection object itself: ``django.db.connection`` is a proxy that looks it
    up (through asgiref's context-local storage) on every attribute read, and a row's values read it per
    field."""
    return connections[DEFAULT_DB_ALIAS]


@cache
def _new_fields(model: type[models.Model]) -> tuple[tuple[str, Any], ...]:
    return tuple((f.attname, f) for f in model._meta.concrete_fields)


def new(model: type[models.Model], **values: Any) -> Any:
    """An unsaved ``model`` instance, as ``model(**values)`` builds it but with ``values`` keyed by column
    attribute (``document_id``, not ``document``): built from positional values, the constructor's fast
    path (the one the ORM takes for every row it reads), each field not given its default. For the rows a
    job inserts by the dozen; a related object given by its key is not cached on the instance."""
    args = [values.pop(name) if name in values else field.get_default() for name, field in _new_fields(model)]
    if values:
        raise TypeError(f"{model.__name__} has no column attribute {sorted(values)[0]!r}")
    return model(*args)


def insert_rows(objs: Sequence[models.Model], *, keys: bool = True) -> None:
    """INSERT ``objs`` (all of one model), like ``bulk_create``: in one statement, or on PostgreSQL in
    statements of as many rows as psycopg caches (``_rows_per_insert``). An auto-incremented primary key is
    read back into each object (``keys=False``: not read, the caller does not need it); every object is
    then marked as saved. Inside ``deferred_writes`` the inserts wait to be sent with others, and the keys
    are set when they have been (before the block's next other statement, at its end, or at
    ``send_pending()``)."""
    if not objs:
        return
    model = type(objs[0])
    db = _db()
    auto = model._meta.auto_field if keys else None
    size = _rows_per_insert(model, auto is not None) if db.vendor == "postgresql" else len(objs)
    for start in range(0, len(objs), size):
        _insert(db, model, objs[start : start + size], auto)


# Field classes (exactly these, not subclasses) whose ``get_db_prep_save(pre_save(obj, add))`` is the attribute
# itself when it holds one of these types or None, on every backend: their ``pre_save`` reads the attribute,
# and their preparation only converts other types (CharField's ``to_python`` returns a str as it is, and so
# on). Not integers: on PostgreSQL Django wraps them in psycopg's sized types (Int2, Int4, Int8), which fix
# the prepared statement's parameter types. tests/test_rows.py compares the two on both databases.
_AS_IS: dict[type[models.Field], tuple[type, ...]] = {  # type: ignore[type-arg]
    models.CharField: (str,),
    models.TextField: (str,),
    models.BooleanField: (bool,),
    models.FloatField: (float,),
}


def _as_is_types(field: Any) -> tuple[type, ...]:
    """The value types ``field`` stores as they are (``_AS_IS``); none for any other field."""
    return _AS_IS.get(type(field), ())


@cache
def _preparers(fields: tuple[Any, ...]) -> tuple[tuple[str, Any, tuple[type, ...]], ...]:
    return tuple((field.attname, field, _as_is_types(field)) for field in fields)


def prepared(obj: models.Model, fields: tuple[Any, ...], *, add: bool, db: Any) -> list[Any]:
    """Each field's value of ``obj`` as the ORM writes it, ``get_db_prep_save(pre_save(obj, add))``, without
    the call chain where that is the attribute itself (a job prepares some 250 values)."""
    out = []
    for attname, field, types in _preparers(fields):
        if types:
            value = getattr(obj, attname)
            if value is None or type(value) in types:
                out.append(value)
                continue
        out.append(field.get_db_prep_save(field.pre_save(obj, add), db))
    return out


def _insert(db: Any, model: type[models.Model], objs: Sequence[models.Model], auto: Any) -> None:
    columns = _insert_columns(model)
    params = [value for obj in objs for value in prepared(obj, columns, add=True, db=db)]

    def saved(rows: list[tuple[Any, ...]] | None) -> None:
        for index, obj in enumerate(objs):
            if auto is not None and rows is not None:
                setattr(obj, auto.attname, rows[index][0])
            obj._state.adding, obj._state.db = False, db.alias

    sql = _insert_sql(model, len(objs), auto is not None)
    if _defer(_Write(sql, params, lambda cursor: saved(cursor.fetchall() if auto is not None else None))):
        return
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        saved(cursor.fetchall() if auto is not None else None)


@cache
def _update(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE of ``names`` by primary key, and the fields it sets."""
    quote = connection.ops.quote_name
    fields = tuple(model._meta.get_field(name) for name in names)
    sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)  # type: ignore[union-attr,arg-type]
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)  # type: ignore[arg-type]
    return f"UPDATE {table} SET {sets} WHERE {key} = %s", fields  # noqa: S608 - names from the model's meta, quoted


def update_row(obj: models.Model, fields: Sequence[str], *, locked: bool = False) -> None:
    """``obj.save(update_fields=fields)`` in one reused statement; like it, raises ``DatabaseError`` when
    the row is gone. ``locked``: the caller holds the row's lock, so it cannot be gone and there is no
    answer to check (inside ``deferred_writes`` the update may then go out with the ``COMMIT``)."""
    model, db = type(obj), _db()
    sql, targets = _update(model, tuple(dict.fromkeys(fields)))
    params = prepared(obj, targets, add=False, db=db)
    params.append(model._meta.pk.get_db_prep_value(obj.pk, db))

    def changed(cursor: Any) -> None:
        if cursor.rowcount < 1 and not locked:
            raise DatabaseError(f"{model._meta.label} {obj.pk}: the update affected no row")

    if _defer(_Write(sql, params, changed, checked=not locked)):
        return
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        changed(cursor)


# --- deferred writes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Write:
    sql: str
    params: list[Any]
    done: Callable[[Any], None]  # called with the statement's cursor once its answer is in
    checked: bool = False  # ``done`` may refuse the answer (an update that found no row): before any commit


_local = threading.local()  # the writes waiting to be sent, per thread (each has its own connection)


def _defer(write: _Write) -> bool:
    pending = getattr(_local, "pending", None)
    if pending is None:
        return False
    pending.append(write)
    return True


def defer_read(sql: str, params: Sequence[Any], done: Callable[[Any], None]) -> bool:
    """Inside ``deferred_writes``: send ``sql`` with the writes waiting (in program order, in their round
    trip) and call ``done`` with its cursor once its answer is in; False (nothing sent) elsewhere, where
    the caller reads when it needs the answer. For a read whose answer is needed later, not now."""
    return _defer(_Write(sql, list(params), done))


@contextmanager
def deferred_writes(*, commit: bool = False) -> Iterator[None]:
    """Inside a transaction on PostgreSQL: ``update_row`` and ``insert_rows`` wait, and are
    sent together through psycopg's pipeline mode, one round trip for them all, just before the next
    other statement on the connection (an execute wrapper) or at the end of the block. They still run one
    after another as separate statements, in program order, each seeing the ones before, exactly as
    if sent one at a time; an error is raised (as Django's error) when they are sent, at the latest at the
    end of the block. An exception that leaves the block while writes still wait marks the enclosing
    atomic block for rollback, so a caller that catches it cannot commit the rest without them.
    Elsewhere (SQLite, a libpq without pipeline mode), a block that does nothing. Nested blocks join
    the outer one.

    ``commit``: the caller's atomic block ends right after this block, so the writes still waiting at its
    end go out with the transaction's ``COMMIT``, one round trip for both, when that atomic block is the
    outermost one, nothing marked it for rollback and no waiting write's answer must be checked first
    (an update must have found its row); Django's own commit then finds the transaction committed and
    psycopg sends nothing. A failed write or commit raises from the block, and the atomic block rolls
    back as after any failed commit. Otherwise the writes go out first and Django commits as usual."""
    if getattr(_local, "pending", None) is not None or not pipelines():
        yield
        return
    _local.pending = []
    db = _db()
    try:
        with db.execute_wrapper(_send_pending_first):
            yield
            if db.needs_rollback:  # the transaction rolls back: what waits would go with it
                _local.pending = []
            else:
                send_pending(commit=commit and _commits_next(_local.pending))
    except BaseException:
        if _local.pending:
            transaction.set_rollback(True)
        raise
    finally:
        _local.pending = None


def _commits_next(pending: list[_Write]) -> bool:
    """Whether writes wait (with none, Django's commit is as cheap: one round trip, or none when nothing was
    sent), the only atomic block is the caller's outermost one, due to commit when it ends, and no waiting
    write must have its answer checked before the commit."""
    db = _db()
    return (
        bool(pending)
        and len(db.atomic_blocks) == 1
        and db.commit_on_exit
        and not any(write.checked for write in pending)
    )


@cache
def _pipeline_support() -> bool:
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def pipelines() -> bool:
    """Whether statements can go out together here: PostgreSQL, inside a transaction, a libpq with
    pipeline mode."""
    db = _db()
    return db.vendor == "postgresql" and not db.get_autocommit() and _pipeline_support()


def _send_pending_first(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    send_pending()
    return execute(sql, params, many, context)


def send_pending(*, commit: bool = False) -> None:
    """Send the deferred writes now (in one round trip) and check each one's answer; with ``commit``, the
    transaction's ``COMMIT`` in the same round trip (``deferred_writes(commit=True)`` decides)."""
    fetch_together([], commit=commit)


def fetch_together(reads: Sequence[tuple[str, Sequence[Any]]], *, commit: bool = False) -> list[list[tuple[Any, ...]]]:
    """Each read's rows. The reads run one after another as separate statements (under READ COMMITTED
    each takes its snapshot when it starts, after the one before has finished), after any deferred
    writes; where ``pipelines()``, all of them in one round trip, and with ``commit`` the transaction's
    ``COMMIT`` last in it (elsewhere ``commit`` changes nothing: Django commits as usual)."""
    pending = getattr(_local, "pending", None) or []
    if pending:
        _local.pending = []  # these pass through the execute wrapper too: nothing left to send there
    statements = [(write.sql, write.params) for write in pending] + [(sql, list(params)) for sql, params in reads]
    if statements and pipelines() and (len(statements) > 1 or commit):
        return _pipelined(pending, statements, commit=commit)
    for write in pending:
        with connection.cursor() as cursor:
            cursor.execute(write.sql, write.params)
            write.done(cursor)
    return [fetch(sql, params) for sql, params in reads]


def _begin_in(raw: Any, pipeline: Any) -> bool:
    """Start the transaction in ``pipeline``'s round trip when its first statement would start it: psycopg
    sends the ``BEGIN`` it adds there in a round trip of its own (it syncs right after, so that the next
    statement does not add a second one). Sent here, the ``BEGIN`` is in flight before the first statement
    is queued: libpq then reports the transaction active, and psycopg adds none. True if sent here.
    This uses psycopg's pipeline internals (its command and result queues), so it runs only where they are
    as expected; elsewhere psycopg starts the transaction itself, one round trip more.
    tests/services/test_ocr_pipeline.py counts a job's round trips from libpq's trace."""
    if raw.autocommit or raw.pgconn.transaction_status != _IDLE:
        return False
    commands, results = getattr(pipeline, "command_queue", None), getattr(pipeline, "result_queue", None)
    communicate, begin = getattr(pipeline, "_communicate_gen", None), getattr(raw, "_get_tx_start_command", None)
    if commands is None or results is None or communicate is None or begin is None:
        return False
    commands.append(partial(raw.pgconn.send_query_params, begin(), None))
    results.append(None)  # psycopg checks a command's result for an error when the pipeline syncs
    raw.wait(communicate())
    return True


def _pipelined(
    pending: list[_Write], statements: list[tuple[str, list[Any]]], *, commit: bool = False
) -> list[list[tuple[Any, ...]]]:
    """The statements in one round trip. Each goes out through Django's cursor wrapper, so execute wrappers,
    query logging (``DEBUG``, ``assertNumQueries``) and whatever instruments ``CursorWrapper.execute`` see
    every one. The wrapper is built as ``connection.cursor()`` builds it, without what that call repeats
    per statement for nothing here: opening the connection (a transaction is open on it) and its health
    check (done when the transaction began). The answers are read from psycopg's own cursors: every one is
    in when the pipeline ends, and any error was raised there, as Django's."""
    db = _db()
    db.validate_thread_sharing()
    wrap = db.make_debug_cursor if db.queries_logged else db.make_cursor
    raws: list[Any] = []
    try:
        with db.wrap_database_errors, db.connection.pipeline() as pipeline:
            _begin_in(db.connection, pipeline)
            for sql, params in statements:
                raw = db.create_cursor()
                raws.append(raw)
                wrap(raw).execute(sql, params)
            if commit:  # a statement of its own, never prepared (psycopg's commit() would sync first)
                db.connection.execute("COMMIT", prepare=False)
        for write, raw in zip(pending, raws, strict=False):
            write.done(raw)
        return [list(raw.fetchall()) for raw in raws[len(pending) :]]
    finally:
        for raw in raws:
            raw.close()


# --- reads ------------------------------------------------------------------------------------------------


Converters = tuple[tuple[Any, tuple[Any, ...]], ...]


def table(model: type[models.Model]) -> str:
    """The model's table name, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[models.Model], name: str, alias: str) -> str:
    """``alias."column"`` of a model's field (a foreign key's column is its ``_id``)."""
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"  # type: ignore[arg-type,union-attr]


def param(model: type[models.Model], name: str, value: Any) -> Any:
    """``value`` as the database takes it for the model's field ``name`` (a UUID key on SQLite is hex)."""
    return model._meta.get_field(name).get_db_prep_value(value, connection)  # type: ignore[union-attr]


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Every row of one statement, as the database driver returns them (see ``converted``). On
    PostgreSQL it goes out with the writes waiting before it, in one round trip (``fetch_together``)."""
    if pipelines() and getattr(_local, "pending", None):
        return fetch_together([(sql, params)])[0]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def converters_for(fields: Sequence[Any]) -> Converters:
    """Each field's column with the converters the ORM applies to what the database returns for it (the
    backend's, then the field's own: datetimes made aware on SQLite, UUIDs, JSON, decryption). Build
    them once per statement and pass them to ``converted``."""
    out = []
    for field in fields:
        column = field.get_col(field.model._meta.db_table)
        out.append((column, tuple(connection.ops.get_db_converters(column) + field.get_db_converters(connection))))
    return tuple(out)


def converted(converters: Converters, values: Sequence[Any]) -> list[Any]:
    """``values`` read from the columns ``converters`` were built for, converted as the ORM converts them."""
    out, db = [], _db()
    for value, (column, functions) in zip(values, converters, strict=True):
        for function in functions:
            value = function(value, column, db)
        out.append(value)
    return out


@cache
def _model_reader(model: type[models.Model]) -> tuple[list[str], Converters]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], converters_for(fields)


@cache
def select_list(model: type[models.Model], alias: str) -> str:
    """Every concrete column of ``model`` under the table alias ``alias``, in the order ``from_row`` reads."""
    quote = connection.ops.quote_name
    return ", ".join(f"{quote(alias)}.{quote(f.column)}" for f in model._meta.concrete_fields)  # type: ignore[arg-type]


def from_row(model: type[models.Model], values: Sequence[Any]) -> models.Model:
    """A model instance from the values of ``select_list(model, ...)``, converted as the ORM converts them."""
    names, converters = _model_reader(model)
    return model.from_db(DEFAULT_DB_ALIAS, names, converted(converters, values))


@cache
def _partial_reader(model: type[models.Model], names: tuple[str, ...]) -> tuple[list[str], Converters]:
    fields = [model._meta.get_field(name) for name in names]
    return [f.attname for f in fields], converters_for(fields)  # type: ignore[union-attr]


def instances(model: type[models.Model], names: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """Instances of ``model`` from rows of the columns of ``names`` (the other fields deferred, as
    ``only(*names)`` leaves them), converted as the ORM converts them."""
    attnames, converters = _partial_reader(model, names)
    return [model.from_db(DEFAULT_DB_ALIAS, attnames, converted(converters, row)) for row in rows]


def split_row(row: Sequence[Any], models_: Sequence[type[models.Model]]) -> list[models.Model]:
    """Instances of ``models_`` from one row that selected their ``select_list``s one after another."""
    out, start = [], 0
    for model in models_:
        width = len(model._meta.concrete_fields)
        out.append(from_row(model, row[start : start + width]))
        start += width
    return out
