"""Figures for the analytics pages and the dashboard panel, drawn with lifeline.core.charts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from lifeline.analytics.counter.dates import month_range
from lifeline.analytics.services import monthly_usage, off_campus_share, usage_between
from lifeline.core.charts import bar_chart, line_chart
from lifeline.core.models import Library
from lifeline.registry.models import Resource


def last_year(today: dt.date) -> tuple[dt.date, dt.date]:
    first = today.replace(day=1)
    return (first.replace(year=first.year - 1), first - dt.timedelta(days=1))


def figures(library: Library, start: dt.date, end: dt.date, top: int = 15) -> dict[str, Any]:
    uses = usage_between(library, start, end)
    resources = {
        r.pk: r for r in Resource.objects.filter(pk__in=uses).select_related("vendor", "category")
    }
    ranked = sorted(
        ((resources[rid], n) for rid, n in uses.items() if rid in resources and n),
        key=lambda x: -x[1],
    )
    by_vendor: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for resource, n in ranked:
        by_vendor[str(resource.vendor) if resource.vendor else _("No vendor")] += n
        by_category[str(resource.category) if resource.category else _("Uncategorised")] += n
    months = month_range(start, end)
    per_month: dict[dt.date, int] = defaultdict(int)
    for series in monthly_usage(library, start, end).values():
        for month, n in series.items():
            per_month[month] += n
    share = off_campus_share(library, start, end)

    def bars(items: list[tuple[str, int]], title: str) -> SafeString | None:
        return (
            bar_chart([k for k, _v in items], [v for _k, v in items], title=title)
            if items
            else None
        )

    return {
        "top": ranked[:top],
        "top_chart": bars([(str(r), n) for r, n in ranked[:top]], _("Top resources")),
        "vendor_chart": bars(
            sorted(by_vendor.items(), key=lambda kv: -kv[1])[:top], _("Use per vendor")
        ),
        "category_chart": bars(
            sorted(by_category.items(), key=lambda kv: -kv[1])[:top], _("Use per category")
        ),
        "month_chart": line_chart(
            [f"{m:%Y-%m}" for m in months],
            {_("Uses"): [per_month.get(m, 0) for m in months]},
            title=_("Use per month"),
        )
        if per_month
        else None,
        "off_campus_share": share,
        "off_campus_percent": f"{share * 100:.1f}" if share is not None else None,
        "total": sum(uses.values()),
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
