"""Figures for the analytics pages and the dashboard panel, drawn with lifeline.core.charts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from lifeline.analytics.counter.dates import month_range
from lifeline.analytics.services import (
    counter_usage_between,
    library_monthly_totals,
    log_monthly_totals,
    log_usage,
    monthly_usage,
    off_campus_share,
)
from lifeline.core.charts import bar_chart, line_chart
from lifeline.core.models import Library
from lifeline.registry.models import Resource


def last_year(today: dt.date) -> tuple[dt.date, dt.date]:
    first = today.replace(day=1)
    return (first.replace(year=first.year - 1), first - dt.timedelta(days=1))


def figures(library: Library, start: dt.date, end: dt.date, top: int = 15) -> dict[str, Any]:
    """Charts and tables of use per resource, vendor, category and month.

    Per resource, a count reaches the resource its platform is mapped to and every package
    whose KBART list holds the title, so per-resource (and hence per-vendor and per-category)
    figures may overlap. The total and the monthly series count every use once: COUNTER
    counts once each, plus access-log requests of resources COUNTER says nothing about."""
    counted = counter_usage_between(library, start, end)
    uses = dict(counted)
    for resource_id, n in log_usage(library, start, end).items():
        uses[resource_id] = max(uses.get(resource_id, 0), n)  # the rule of usage_between
    resources = {
        r.pk: r for r in Resource.objects.filter(pk__in=uses).select_related("vendor", "category")
    }
    ranked = sorted(
        ((resources[rid], n) for rid, n in uses.items() if rid in resources and n),
        key=lambda x: (-x[1], str(x[0])),
    )
    by_vendor: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for resource, n in ranked:
        by_vendor[str(resource.vendor) if resource.vendor else _("No vendor")] += n
        by_category[str(resource.category) if resource.category else _("Uncategorised")] += n
    vendors = sorted(by_vendor.items(), key=lambda kv: (-kv[1], kv[0]))
    categories = sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    months = month_range(start, end)
    counter_months = library_monthly_totals(library, start, end)
    log_months = log_monthly_totals(library, start, end, exclude=counted)
    month_rows = [(m, counter_months.get(m, 0), log_months.get(m, 0)) for m in months]
    share = off_campus_share(library, start, end)

    def bars(items: list[tuple[str, int]], title: str) -> SafeString | None:
        return (
            bar_chart([k for k, _v in items], [v for _k, v in items], title=title)
            if items
            else None
        )

    series = {_("COUNTER uses"): [c for _m, c, _l in month_rows]}
    if log_months:
        series[_("Access-log requests (resources without COUNTER)")] = [
            lg for _m, _c, lg in month_rows
        ]
    return {
        "top": ranked[:top],
        "ranked": ranked,
        "vendors": vendors,
        "categories": categories,
        "months": month_rows,
        "top_chart": bars([(str(r), n) for r, n in ranked[:top]], _("Top resources")),
        "vendor_chart": bars(vendors[:top], _("Use per vendor")),
        "category_chart": bars(categories[:top], _("Use per category")),
        "month_chart": line_chart([f"{m:%Y-%m}" for m in months], series, title=_("Use per month"))
        if counter_months or log_months
        else None,
        "off_campus_share": share,
        "off_campus_percent": f"{share * 100:.1f}" if share is not None else None,
        "total": sum(c + lg for _m, c, lg in month_rows),
    }


def resource_chart(
    library: Library, resource: Resource, start: dt.date, end: dt.date
) -> SafeString:
    series = monthly_usage(library, start, end, resource_ids=[resource.pk]).get(resource.pk, {})
    months = month_range(start, end)
    return line_chart(
        [f"{m:%Y-%m}" for m in months],
        {str(resource): [series.get(m, 0) for m in months]},
        title=str(resource),
    )
