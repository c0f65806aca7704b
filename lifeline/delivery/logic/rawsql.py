"""Rows of the ISO 18626 hot path read and written with prepared SQL, not built ORM queries.

A message's path (the endpoint's peer, the transaction under lock, the history row, the kept
message, the send claim) is a handful of single-row statements; building each as an ORM query
cost ~1–2 ms of CPU (compiling the query, `select_related`, save()'s full-row UPDATE) against
~0.1 ms for the statement itself, most of a transaction's CPU. Here the SQL of each model is
made once per process (columns, converters) and each call only binds values:

- `insert(obj)`: INSERT of every concrete column (field defaults, `pre_save` and
  `get_db_prep_save` as `save()` would; encrypted fields are encrypted), the new id set on `obj`;
- `update(obj, fields)`: UPDATE of those columns of one row by primary key;
- `select(sql, params, models)`: rows of a hand-written SELECT over `columns(model, alias)`
  parts, turned into model instances with the fields' own converters (decryption, SQLite's
  dates), as the ORM would.

On PostgreSQL these statements are bound on the server and prepared (psycopg's `prepare=True`
on a cursor of Django's own connection, wrapped as Django wraps its cursors, so query capture,
`execute_wrapper`s and error translation see them): Django binds parameters in Python by default
(`ClientCursor`), which quoted every kept message's XML into the SQL text character by character
and had the server parse and plan each statement again. A prepared statement lives with its
connection (kept `CONN_MAX_AGE`), so each is parsed once per connection.

No model signals are sent, so only models that are not `audited` (core.audit) are accepted: an
audited model's change must still write its audit row through `save()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from lifeline.core.fields import EncryptedTextField, decrypt

Converter = Callable[[Any, Any, Any], Any]
# A psycopg prepare threshold no statement reaches by repetition: only statements executed
# with `prepare=True` (ours) are prepared.
_ONLY_WHEN_ASKED = 2**31


def _plain(model: type[models.Model]) -> None:
    if getattr(model, "audited", False):
        raise TypeError(f"{model.__name__} is audited: write it with save()")


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


@cache
def columns(model: type[models.Model], alias: str) -> str:
    """The SELECT list of every concrete column of `model` under table alias `alias`."""
    return ", ".join(f"{alias}.{qn(str(f.column))}" for f in _fields(model))


@cache
def _converters(model: type[models.Model], vendor: str) -> tuple[tuple[Any, list[Converter]], ...]:
    out = []
    for f in _fields(model):
        expression = f.get_col(model._meta.db_table)
        found = [*connection.ops.get_db_converters(expression), *f.get_db_converters(connection)]
        if isinstance(f, EncryptedTextField):
            # A peer's secrets are read with every message it sends: the same token always
            # decrypts to the same text (the keys are settings, fixed for the process), so it
            # is decrypted once, not with two HMACs and an AES pass per message.
            found = [*connection.ops.get_db_converters(expression), _decrypted]
        out.append((expression, found))
    return tuple(out)


def cursor() -> Any:
    """A cursor of the default connection, prepared statements with server-side binding on
    PostgreSQL (see the module's note), Django's own elsewhere."""
    db = _db()
    if db.vendor != "postgresql":
        return db.cursor()
    # What `connection.cursor()` does, with our cursor class instead of the client-binding one.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(_prepared_class()(db.connection))


def _db() -> Any:
    """The default connection itself: `django.db.connection` is a proxy that looks the
    thread's connection up again on every attribute (a dozen times per statement here)."""
    return connections[DEFAULT_DB_ALIAS]


@cache
def _prepared_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    base: Any = ServerBindingCursor  # psycopg's Cursor with Django's mixin

    class Prepared(base):
        def execute(self, query: Any, params: Any = None, **_kw: Any) -> Any:
            # Django opens its connections with psycopg's `prepare_threshold` None (for
            # poolers in transaction mode), and with None psycopg ignores `prepare=True`: the
            # statement would be parsed and planned anew each time. Preparing is switched on
            # for this statement only; the connection's other cursors keep theirs (psycopg
            # prepares on its own after `threshold` runs, so it stays None around them).
            conn = self.connection
            before = conn.prepare_threshold
            if before is None:
                conn.prepare_threshold = _ONLY_WHEN_ASKED
            try:
                return super().execute(query, params, prepare=True)
            finally:
                if before is None:
                    conn.prepare_threshold = None

    return Prepared


@lru_cache(maxsize=4096)
def _decrypt_once(token: str) -> str:
    return decrypt(token)


def _decrypted(value: Any, _expression: Any, _connection: Any) -> Any:
    return _decrypt_once(value) if value else value


def load[M: models.Model](model: type[M], row: Sequence[Any], start: int = 0) -> M:
    """A `model` instance from `row[start:]` (as the columns of `columns(model, …)`)."""
    db = _db()
    fields = _fields(model)
    values = list(row[start : start + len(fields)])
    for i, (expression, convert) in enumerate(_converters(model, db.vendor)):
        for c in convert:
            values[i] = c(values[i], expression, db)
    return model.from_db(db.alias, [f.attname for f in fields], values)


def select(
    sql: str, params: Sequence[Any], parts: Sequence[type[models.Model]]
) -> list[tuple[Any, ...]]:
    """Rows of `sql`, whose SELECT list is `columns()` of each model of `parts` in turn; each
    row as a tuple of instances (a NULL primary key, as from an outer join, gives None)."""
    with cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    out = []
    for row in rows:
        items: list[Any] = []
        start = 0
        for model in parts:
            n = len(_fields(model))
            pk_at = next(i for i, f in enumerate(_fields(model)) if f.primary_key)
            items.append(None if row[start + pk_at] is None else load(model, row, start))
            start += n
        out.append(tuple(items))
    return out


@cache
def _insert_sql(model: type[models.Model], vendor: str) -> tuple[str, tuple[Any, ...], bool]:
    _plain(model)
    fields = tuple(f for f in _fields(model) if not f.primary_key)
    returning = connection.features.can_return_columns_from_insert
    pk = model._meta.pk
    assert pk is not None
    names = ", ".join(qn(str(f.column)) for f in fields)
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({names})"  # noqa: S608 - names from the model
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        + (f" RETURNING {qn(str(pk.column))}" if returning else "")
    )
    return sql, fields, returning


def insert[M: models.Model](obj: M) -> M:
    """INSERT `obj` as `obj.save(force_insert=True)` would, without the query building."""
    db = _db()
    sql, fields, returning = _insert_sql(type(obj), db.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    held = _take_held()
    if held:
        # The held writes go with this INSERT as one statement (see `combined`).
        sql = _with(held, sql)
        values = [*_params(held), *values]
    with cursor() as cur:
        cur.execute(sql, values)
        new_id = cur.fetchone()[0] if returning else cur.lastrowid
    obj.pk = new_id
    obj._state.adding, obj._state.db = False, db.alias
    return obj


@cache
def _update_sql(
    model: type[models.Model], names: tuple[str, ...] | None, vendor: str
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    _plain(model)
    chosen = tuple(
        f
        for f in _fields(model)
        if not f.primary_key and (names is None or f.name in names or f.attname in names)
    )
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET "  # noqa: S608 - names from the model
        + ", ".join(f"{qn(str(f.column))} = %s" for f in chosen)
        + f" WHERE {qn(str(pk.column))} = %s"
    )
    return sql, chosen


def update(obj: models.Model, fields: Iterable[str] | None = None) -> int:
    """UPDATE the named fields (all but the key without `fields`) of `obj`'s row."""
    db = _db()
    sql, chosen = _update_sql(type(obj), None if fields is None else tuple(fields), db.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, False), db) for f in chosen]
    with cursor() as cur:
        cur.execute(sql, [*values, obj.pk])
        return int(cur.rowcount)


# --- writes held back and sent with the next statement ---------------------------------------

# (statement, parameters, (table, key) of the row an UPDATE writes).
Held = list[tuple[str, list[Any], tuple[str, Any] | None]]
_held: ContextVar[Held | None] = ContextVar("rawsql_held", default=None)


@contextmanager
def combined() -> Iterator[None]:
    """Inside: on PostgreSQL, `insert_later` and `update_later` hold their statement back and
    the next `insert` sends the held ones with its own as one statement (data-modifying CTEs),
    so a received message's history row, transaction UPDATE and kept message are one round trip
    and one statement for the server to run, not three. Any other statement on the connection
    (the ORM's too, a savepoint) sends what is held first, on its own, so nothing reads a row
    before the write held for it; the rest is sent when the block ends. An exception drops what
    is held (the caller's transaction is rolled back anyway). Elsewhere (SQLite) the writes run
    at once.

    Use it inside `transaction.atomic()`: the held writes then commit or roll back with it."""
    db = _db()
    if db.vendor != "postgresql":
        yield
        return
    token = _held.set([])
    try:
        with db.execute_wrapper(_send_held_first):
            yield
            _send_held()
    finally:
        _held.reset(token)


def insert_later(obj: models.Model) -> None:
    """`insert(obj)` whose new id nobody reads: held inside `combined()` (`obj.pk` stays None),
    at once elsewhere."""
    held = _held.get()
    if held is None:
        insert(obj)
        return
    db = _db()
    sql, fields, returning = _insert_sql(type(obj), db.vendor)
    if returning:
        sql = sql.rsplit(" RETURNING ", 1)[0]
    held.append((sql, [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields], None))
    obj._state.db = db.alias


def update_later(obj: models.Model, fields: Iterable[str] | None = None) -> None:
    """`update(obj, fields)` whose row count nobody reads: held inside `combined()`."""
    held = _held.get()
    if held is None:
        update(obj, fields)
        return
    db = _db()
    sql, chosen = _update_sql(type(obj), None if fields is None else tuple(fields), db.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, False), db) for f in chosen]
    row = (type(obj)._meta.db_table, obj.pk)
    if any(key == row for _sql, _params, key in held):
        # Two UPDATEs of one row in one statement: only one would be applied.
        _send_held()
    held.append((sql, [*values, obj.pk], row))


def _send_held() -> None:
    held = _take_held()
    if held:
        execute(_with(held, "SELECT 1"), _params(held))


def _take_held() -> Held:
    held = _held.get()
    if not held:
        return []
    taken = held[:]
    held.clear()
    return taken


def _params(held: Held) -> list[Any]:
    return [v for _sql, params, _key in held for v in params]


def _with(held: Held, main: str) -> str:
    # Every data-modifying CTE runs exactly once, to completion, whether or not the main
    # statement reads it; the held writes touch other rows than the main one.
    parts = ", ".join(f"held{i} AS ({sql})" for i, (sql, _p, _k) in enumerate(held))
    return f"WITH {parts} {main}"


def _send_held_first(execute_: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """Django's execute wrapper inside `combined()`: what is held goes before this statement."""
    _send_held()  # on a cursor of its own: this one may be an executemany
    return execute_(sql, params, many, context)


def execute(sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """A hand-written statement: (rows affected, rows returned). Times are bound as the
    backend stores them (SQLite compares its text form)."""
    adapt = _db().ops.adapt_datetimefield_value
    bound = [adapt(p) if isinstance(p, dt.datetime) else p for p in params]
    with cursor() as cur:
        cur.execute(sql, bound)
        rows = cur.fetchall() if cur.description else []
        return int(cur.rowcount), rows
