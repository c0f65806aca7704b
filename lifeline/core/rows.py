"""Model instances from one hand-written SELECT, for the few queries intake runs per request.

Building a query through the ORM costs ~0.4 ms of CPU for a two-table select, ten times the
round trip itself; at hundreds of requests per second that is most of a core. The SQL here is
written once from the models' own field lists, and rows become ordinary, complete instances
(`Model.from_db`, with the backend's converters, as the ORM itself does), so nothing downstream
can tell them apart from ORM results.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper


@functools.cache
def fields_of(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


@functools.cache
def _attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in fields_of(model)]


def select_list(model: type[models.Model], alias: str, qn: Any) -> str:
    """`alias."col", ...` for every stored field of the model, in `fields_of` order (the alias
    is ours, a plain word)."""
    return ", ".join(f"{alias}.{qn(f.column)}" for f in fields_of(model))


Converters = list[tuple[int, list[Any], Any]]
# Per connection (converters are bound to it) and model: worked out once, not per row.
_CONVERTERS: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[type[models.Model], Converters]]
_CONVERTERS = weakref.WeakKeyDictionary()


def _converters(model: type[models.Model], conn: BaseDatabaseWrapper) -> Converters:
    per_model = _CONVERTERS.setdefault(conn, {})
    if model not in per_model:
        out: Converters = []
        for i, field in enumerate(fields_of(model)):
            col = field.get_col(model._meta.db_table)
            convs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if convs:
                out.append((i, convs, col))
        per_model[model] = out
    return per_model[model]


def instance(
    model: type[models.Model], conn: BaseDatabaseWrapper, values: list[Any] | tuple[Any, ...]
) -> Any:
    """A model instance from its columns in `fields_of` order, converted as the ORM would."""
    row = list(values)
    for i, convs, col in _converters(model, conn):
        for convert in convs:
            row[i] = convert(row[i], col, conn)
    return model.from_db(conn.alias, _attnames(model), row)


def instances(
    models_: tuple[type[models.Model], ...], conn: BaseDatabaseWrapper, row: tuple[Any, ...]
) -> list[Any]:
    """One instance of each model from a row holding their `select_list`s side by side."""
    out, start = [], 0
    for model in models_:
        end = start + len(fields_of(model))
        out.append(instance(model, conn, row[start:end]))
        start = end
    return out


def set_prefetched(instance: models.Model, name: str, objects: list[Any]) -> None:
    """Leave `objects` as `instance.<name>.all()`, as `prefetch_related(name)` does, so the
    model's own methods over that relation run without a query."""
    qs = getattr(instance, name).all()
    qs._result_cache = list(objects)
    qs._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = qs


_BY_COLUMN: dict[tuple[str, type[models.Model], str], str] = {}


def by_unique(model: type[models.Model], column: str, value: Any) -> Any:
    """`model.objects.filter(<column>=value).first()` for a unique column (a library's code, a
    user's patron row), as one hand-written SELECT: the access checks of every library page run
    two of these per request (`core.access`)."""
    conn = connections[router.db_for_read(model)]
    key = (conn.alias, model, column)
    if key not in _BY_COLUMN:
        field = model._meta.get_field(column)
        if not isinstance(field, models.Field) or not field.unique:
            raise ValueError(f"{model.__name__}.{column} is not a unique column")
        qn = conn.ops.quote_name
        _BY_COLUMN[key] = (
            f"SELECT {select_list(model, 't', qn)} FROM {qn(model._meta.db_table)} t"  # noqa: S608
            f" WHERE t.{qn(str(field.column))} = %s"
        )
    with conn.cursor() as cur:
        cur.execute(_BY_COLUMN[key], [value])
        row = cur.fetchone()
    return None if row is None else instance(model, conn, row)
