"""The service report across the libraries of an installation: each library's column and the sum.

Only figures that add up are summed (counts of things); rates, averages and per-day figures are
recomputed from their parts where the parts are known (the delivery fill rate) and otherwise left
without a sum, because the sum of two fill rates means nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from lifeline.core import counts as contract
from lifeline.core.counts import Count
from lifeline.core.models import Library

# Measures that are no count of things: never summed across libraries.
NOT_ADDITIVE = {
    "fill_rate",
    "supplied_per_day",
    "availability",
    "uptime",
    "median_hours",
    "mean_hours",
    "rate",
}


@dataclass
class ConsortiumRow:
    service_key: str
    service_title: str
    measure: str
    title: str
    unit: str
    label: str
    values: list[int | float | None]  # one per library, in the report's library order
    total: int | float | None


@dataclass
class ConsortiumReport:
    libraries: list[Library]
    start: dt.date
    end: dt.date
    rows: list[ConsortiumRow]


def _additive(c: Count) -> bool:
    unit = str(c.unit)
    return c.measure not in NOT_ADDITIVE and "%" not in unit and not c.measure.endswith("_rate")


def build(libraries: list[Library], start: dt.date, end: dt.date) -> ConsortiumReport:
    titles = dict((k, str(t)) for k, t in contract.SERVICE_TYPES)
    order = {k: i for i, (k, _t) in enumerate(contract.SERVICE_TYPES)}
    per_library = [contract.collect(lib, start, end) for lib in libraries]
    keys: dict[tuple[str, str, str], Count] = {}
    for found in per_library:
        for c in found:
            keys.setdefault((c.service_key, c.measure, c.label), c)
    values = {
        key: [
            next(
                (c.figure for c in found if (c.service_key, c.measure, c.label) == key),
                None,
            )
            for found in per_library
        ]
        for key in keys
    }
    rows = []
    for key, sample in sorted(
        keys.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][2] != "", kv[0][2])
    ):
        vals = values[key]
        present = [v for v in vals if v is not None]
        total: int | float | None = sum(present) if present and _additive(sample) else None
        rows.append(
            ConsortiumRow(
                key[0],
                titles.get(key[0], key[0]),
                key[1],
                str(sample.title) or titles.get(key[0], key[0]),
                str(sample.unit),
                key[2],
                vals,
                total,
            )
        )
    _fill_rate(rows)
    return ConsortiumReport(libraries, start, end, rows)


def _fill_rate(rows: list[ConsortiumRow]) -> None:
    """The consortium's fill rate is its supplied over its requested, not a sum of rates."""
    by = {(r.service_key, r.measure, r.label): r for r in rows}
    rate = by.get(("delivery", "fill_rate", ""))
    req = by.get(("delivery", contract.REQUESTED, ""))
    sup = by.get(("delivery", contract.SUPPLIED, ""))
    if rate and req and sup and req.total:
        rate.total = round(100 * float(sup.total or 0) / float(req.total), 1)


def column(report: ConsortiumReport, service_key: str, measure: str) -> list[float]:
    """One figure per library (0 where a library has none), for a chart."""
    for r in report.rows:
        if (r.service_key, r.measure, r.label) == (service_key, measure, ""):
            return [float(v or 0) for v in r.values]
    return [0.0] * len(report.libraries)


def table(report: ConsortiumReport) -> tuple[list[str], list[list[object]]]:
    header = [
        _("Service type"),
        _("Figure"),
        *(str(lib) for lib in report.libraries),
        _("Consortium"),
        _("Unit"),
    ]
    rows: list[list[object]] = []
    for r in report.rows:
        name = f"{r.title} · {r.label}" if r.label else r.title
        rows.append(
            [
                r.service_title,
                name,
                *("—" if v is None else v for v in r.values),
                "—" if r.total is None else r.total,
                r.unit,
            ]
        )
    return header, rows
