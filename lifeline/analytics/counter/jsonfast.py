"""The column reader of JSON reports (SUSHI answers and saved files): the items flattened into
columns with list extends, every Code of Practice check run once per distinct value or as a
column expression, the usage frame built by polars (issue 16, part 4: as TSV's `counter.fast`).

Like the fast tabular reader it only ever says "these are the rows" or "ask the row-by-row
reader": anything unusual (a count that is not a plain non-negative integer, a metric type the
report may not carry, a month outside the period, an empty platform, an item that is not an
object) returns None and `parse_json` runs the careful reader, which words each problem with
its JSON path. Both build the same rows in the same order (`tests/test_counter_columns.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from lifeline.analytics.counter.base import (
    FRAME_SCHEMA,
    ID_TYPES,
    ITEM_COLUMNS,
    TDM_PREFIX,
    _check_attributes,
    _Collector,
    is_tdm,
)
from lifeline.analytics.counter.dates import parse_day
from lifeline.analytics.counter.spec import ATTRIBUTES, ReportSpec

_ATTRIBUTES = frozenset(ATTRIBUTES)


class _Unusual(Exception):
    """Something the careful reader must look at: leave the whole report to it."""


class _Columns:
    """The report's counts as parallel lists; item fields once per item (`owner` points there)."""

    def __init__(self, spec: ReportSpec) -> None:
        self.spec = spec
        self.items = spec.family in {"TR", "IR"}
        self.title_field = "Title" if spec.family == "TR" else "Item"
        self.with_database = spec.family == "DR"
        self.leaves: list[tuple[Any, ...]] = []
        self.owner: list[int] = []
        self.metric: list[Any] = []
        self.month: list[Any] = []
        self.count: list[Any] = []
        self.tdm: list[bool] = []
        self.attribute_sets: set[frozenset[str]] = set()

    def leaf(self, item: Any) -> int:
        if not isinstance(item, dict):
            raise _Unusual
        platform = str(item.get("Platform", "")).strip()
        if not platform:
            raise _Unusual
        database = str(item.get("Database", "")) if self.with_database else ""
        if self.items:
            ids = _ids(item.get("Item_ID"))
            self.leaves.append((platform, database, str(item.get(self.title_field, "")), *ids))
        else:
            self.leaves.append((platform, database, *(None,) * len(ITEM_COLUMNS)))
        return len(self.leaves) - 1

    def add(self, owner: int, metric: Any, months: Any, counts: Any, tdm: bool, n: int) -> None:
        """`n` counts of one item; `metric` is one name for all, or a list of one per count."""
        self.owner.extend([owner] * n)
        self.metric.extend(metric if isinstance(metric, list) else [metric] * n)
        self.month.extend(months)
        self.count.extend(counts)
        self.tdm.extend([tdm] * n)


def _ids(raw: Any) -> list[str]:
    # The careful reader's `_json_ids`, repeated here so that both stay side by side in review.
    ids = [""] * 6
    if isinstance(raw, list):
        pairs = [(e.get("Type"), e.get("Value")) for e in raw if isinstance(e, dict)]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        pairs = []
    for kind, value in pairs:
        slot = ID_TYPES.get(str(kind))
        if slot is not None and value:
            ids[slot] = str(value) if not isinstance(value, list) else str(value[0])
    return ids


def _items_51(columns: _Columns, items: list[Any], family: str) -> None:
    for item in items:
        if not isinstance(item, dict):
            raise _Unusual
        leaves = item.get("Items") if family == "IR" and "Items" in item else [item]
        for leaf in leaves or []:
            owner = columns.leaf(leaf)
            for block in leaf.get("Attribute_Performance") or []:
                if not isinstance(block, dict):
                    raise _Unusual
                columns.attribute_sets.add(frozenset(k for k in block if k in _ATTRIBUTES))
                tdm = is_tdm(block.get("Access_Method"))
                performance = block.get("Performance") or {}
                if not isinstance(performance, dict):
                    raise _Unusual
                for metric, by_month in performance.items():
                    if not isinstance(by_month, dict):
                        raise _Unusual
                    columns.add(owner, metric, by_month, by_month.values(), tdm, len(by_month))


def _items_50(columns: _Columns, items: list[Any]) -> None:
    for item in items:
        owner = columns.leaf(item)
        columns.attribute_sets.add(frozenset(k for k in item if k in _ATTRIBUTES))
        tdm = is_tdm(item.get("Access_Method"))
        for perf in item.get("Performance") or []:
            if not isinstance(perf, dict):
                raise _Unusual
            period = perf.get("Period") or {}
            if not isinstance(period, dict):
                raise _Unusual
            begin = period.get("Begin_Date")
            instances = perf.get("Instance") or []
            if not isinstance(instances, list):
                raise _Unusual
            for inst in instances:
                if not isinstance(inst, dict):
                    raise _Unusual
            n = len(instances)
            columns.add(
                owner,
                [str(inst.get("Metric_Type", "")) for inst in instances],
                [begin] * n,
                [inst.get("Count") for inst in instances],
                tdm,
                n,
            )


def fast_items(
    spec: ReportSpec,
    release: str,
    items: list[Any],
    begin: dt.date,
    end: dt.date | None,
    *,
    all_tdm: bool = False,
) -> tuple[pl.DataFrame, set[str]] | None:
    """(usage frame, attribute columns beyond the view's, to warn about), or None."""
    columns = _Columns(spec)
    try:
        if release == "5.1":
            _items_51(columns, items, spec.family)
        else:
            _items_50(columns, items)
    except _Unusual:
        return None
    extra: set[str] = set()
    problems = _Collector()
    for present in columns.attribute_sets:
        extra |= _check_attributes(spec, set(present), problems, "", lenient=True)
    if problems.problems:
        return None
    # Metric types: only the report's own (anything else is sorted by the careful reader).
    if not set(columns.metric) <= spec.metrics:
        return None
    # Counts: plain integers only (no text, float, bool or null), none negative.
    if set(map(type, columns.count)) - {int}:
        return None
    # Months: each distinct text read once, inside the reporting period.
    first, last = begin.replace(day=1), end.replace(day=1) if end is not None else None
    months: dict[Any, dt.date] = {}
    for text in set(columns.month):
        day = parse_day(text)
        if day is None:
            return None
        month = day.replace(day=1)
        if month < first or (last is not None and month > last):
            return None
        months[text] = month
    try:
        counts = pl.Series("count", columns.count, dtype=pl.Int64)
    except (OverflowError, TypeError, pl.exceptions.PolarsError):
        return None
    if counts.len() and counts.min() < 0:  # type: ignore[operator]
        return None
    names = ["platform", "database", *ITEM_COLUMNS]
    leaves = pl.DataFrame(
        columns.leaves, schema=dict.fromkeys(names, pl.String), orient="row"
    ).with_row_index("_owner")
    tdm = pl.Series("_tdm", columns.tdm, dtype=pl.Boolean)
    if all_tdm:
        tdm = pl.Series("_tdm", [True] * len(columns.tdm), dtype=pl.Boolean)
    month_keys = pl.Series("_month", [str(m) for m in columns.month], dtype=pl.String)
    lookup = pl.DataFrame(
        {"_month": [str(k) for k in months], "month": list(months.values())},
        schema={"_month": pl.String, "month": pl.Date},
    )
    frame = (
        pl.DataFrame(
            [
                pl.Series("_owner", columns.owner, dtype=pl.UInt32),
                pl.Series("metric", columns.metric, dtype=pl.String),
                month_keys,
                counts,
                tdm,
            ]
        )
        .filter(pl.col("count") != 0)
        .join(leaves, on="_owner", how="left", maintain_order="left")
        .join(lookup, on="_month", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_tdm"))
            .then(pl.lit(TDM_PREFIX) + pl.col("metric"))
            .otherwise(pl.col("metric"))
            .alias("metric")
        )
    )
    frame = frame.select(pl.col(name).cast(dtype) for name, dtype in FRAME_SCHEMA.items())
    return frame, extra
