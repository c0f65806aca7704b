"""The statistics page and its XLSX export: one report dict, rendered as tables, SVG charts and
sheets.

The seed's table 2 is "requested / supplied per service channel" and table 3 "supplied per
supplier (service)"; both come out of the same imported data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from lifeline.core.charts import bar_chart, line_chart
from lifeline.core.models import Library
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.delivery.logic import stats


def build(library: Library, start: dt.date, end: dt.date) -> dict[str, Any]:
    rows = stats.cube(library, start, end)
    return {
        "start": start,
        "end": end,
        "summary": stats.summary(library, start, end, rows),
        "months": stats.per_month(library, start, end, rows),
        "types": stats.per_type(library, start, end, rows),
        "suppliers": stats.per_supplier(library, start, end, rows),
        "channels": stats.per_channel(library, start, end, rows),
    }


def _month(value: Any) -> str:
    return value.strftime("%Y-%m") if value else ""


def charts(report: dict[str, Any]) -> dict[str, SafeString]:
    months = report["months"]
    return {
        "months": line_chart(
            [_month(r["month"]) for r in months],
            {
                _("Requested"): [r["requested"] for r in months],
                _("Supplied"): [r["supplied"] for r in months],
            },
            title=_("Requests per month"),
        ),
        "types": bar_chart(
            [r["label"] for r in report["types"]],
            [r["requested"] for r in report["types"]],
            title=_("Requests per document type"),
        ),
        "suppliers": bar_chart(
            [r["supplier__name"] for r in report["suppliers"]],
            [r["supplied"] for r in report["suppliers"]],
            title=_("Supplied per supplier"),
        ),
    }


def xlsx(report: dict[str, Any]) -> bytes:
    s = report["summary"]
    summary_rows = [
        (_("Period"), f"{report['start']} – {report['end']}"),
        (_("Requested"), s["requested"]),
        (_("Supplied"), s["supplied"]),
        (_("Fill rate (%)"), s["fill_rate"]),
        (_("Unfilled"), s["unfilled"]),
        (_("Cancelled"), s["cancelled"]),
        (_("Answered from holdings (deflected)"), s["deflected"]),
        (_("Requests per day"), s["per_day"]),
        (_("Turnaround median (service hours)"), s["median_hours"]),
        (_("Turnaround 90th percentile (service hours)"), s["p90_hours"]),
    ]
    head = [_("Requested"), _("Supplied"), _("Fill rate (%)"), _("Deflected")]

    def rows(items: list[dict[str, Any]], key: str, fmt: Any = str) -> list[list[Any]]:
        return [
            [fmt(r[key]), r["requested"], r["supplied"], r["fill_rate"], r["deflected"]]
            for r in items
        ]

    return xlsx_bytes(
        {
            _("Summary"): ([_("Measure"), _("Value")], summary_rows),
            _("Per month"): ([_("Month"), *head], rows(report["months"], "month", _month)),
            _("Per type"): ([_("Type"), *head], rows(report["types"], "label")),
            _("Per channel"): ([_("Channel"), *head], rows(report["channels"], "channel")),
            _("Per supplier"): (
                [_("Supplier"), *head],
                rows(report["suppliers"], "supplier__name"),
            ),
        }
    )
