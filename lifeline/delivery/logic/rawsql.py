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

No model signals are sent, so only models that are not `audited` (core.audit) are accepted: an
audited model's change must still write its audit row through `save()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from django.db import connection, models

Converter = Callable[[Any, Any, Any], Any]


def _plain(model: type[models.Model]) -> None:
    if getattr(model, "audited", False):
        raise TypeError(f"{model.__name__} is audited: write it with save()")


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


def columns(model: type[models.Model], alias: str) -> str:
    """The SELECT list of every concrete column of `model` under table alias `alias`."""
    return ", ".join(f"{alias}.{qn(str(f.column))}" for f in _fields(model))


@cache
def _converters(model: type[models.Model], vendor: str) -> tuple[tuple[Any, list[Converter]], ...]:
    out = []
    for f in _fields(model):
        expression = f.get_col(model._meta.db_table)
        found = [*connection.ops.get_db_converters(expression), *f.get_db_converters(connection)]
        out.append((expression, found))
    return tuple(out)


def load[M: models.Model](model: type[M], row: Sequence[Any], start: int = 0) -> M:
    """A `model` instance from `row[start:]` (as the columns of `columns(model, …)`)."""
    fields = _fields(model)
    values = list(row[start : start + len(fields)])
    for i, (expression, convert) in enumerate(_converters(model, connection.vendor)):
        for c in convert:
            values[i] = c(values[i], expression, connection)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def select(
    sql: str, params: Sequence[Any], parts: Sequence[type[models.Model]]
) -> list[tuple[Any, ...]]:
    """Rows of `sql`, whose SELECT list is `columns()` of each model of `parts` in turn; each
    row as a tuple of instances (a NULL primary key, as from an outer join, gives None)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
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
    sql, fields, returning = _insert_sql(type(obj), connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        new_id = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj.pk = new_id
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


def update(obj: models.Model, fields: Iterable[str] | None = None) -> int:
    """UPDATE the named fields (all but the key without `fields`) of `obj`'s row."""
    model = type(obj)
    _plain(model)
    chosen = [
        f
        for f in _fields(model)
        if not f.primary_key and (fields is None or f.name in fields or f.attname in fields)
    ]
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET "  # noqa: S608 - names from the model
        + ", ".join(f"{qn(str(f.column))} = %s" for f in chosen)
        + f" WHERE {qn(str(model._meta.pk.column))} = %s"
    )
    values = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in chosen]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, obj.pk])
        return int(cursor.rowcount)


def execute(sql: str, params: Sequence[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """A hand-written statement: (rows affected, rows returned). Times are bound as the
    backend stores them (SQLite compares its text form)."""
    adapt = connection.ops.adapt_datetimefield_value
    bound = [adapt(p) if isinstance(p, dt.datetime) else p for p in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        rows = cursor.fetchall() if cursor.description else []
        return int(cursor.rowcount), rows
