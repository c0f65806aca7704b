"""Domain queries other apps call: usage per resource between two dates, denials, monthly series.

COUNTER reports overlap: a TR_J1 is part of the TR, and a PR counts everything on the platform.
Adding them would count one download two or three times, so per resource and month we take
the largest figure any single report type gives (the most complete report wins).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Sum

from lifeline.analytics.choices import DENIAL_METRICS, Metric
from lifeline.analytics.models import UsageRecord
from lifeline.core.models import Library

USE_METRICS = (Metric.TOTAL_ITEM_REQUESTS,)


def monthly_usage(
    library: Library,
    start: dt.date,
    end: dt.date,
    metrics: Iterable[int] = USE_METRICS,
    resource_ids: Iterable[int] | None = None,
) -> dict[int, dict[dt.date, int]]:
    """resource id → month → count (best report type per resource and month)."""
    qs = UsageRecord.objects.filter(
        report__library=library,
        source__resource__isnull=False,
        metric__in=list(metrics),
        month__gte=start.replace(day=1),
        month__lte=end,
    )
    if resource_ids is not None:
        qs = qs.filter(source__resource_id__in=list(resource_ids))
    per_report: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    for row in (
        qs.values("source__resource_id", "month", "report__report_id")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        per_report[(row["source__resource_id"], row["month"], row["report__report_id"])] += row["n"]
    out: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for (resource_id, month, _code), n in per_report.items():
        out[resource_id][month] = max(out[resource_id].get(month, 0), n)
    return dict(out)


def _month_share(month: dt.date, start: dt.date, end: dt.date) -> float:
    """The part of a month inside [start, end]: monthly counts are spread evenly over the days."""
    days = calendar.monthrange(month.year, month.month)[1]
    last = month.replace(day=days)
    overlap = (min(last, end) - max(month, start)).days + 1
    return max(0, overlap) / days


def usage_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → total uses (COUNTER Total_Item_Requests) between start and end, both included."""
    totals: dict[int, int] = {}
    for resource_id, months in monthly_usage(library, start, end).items():
        total = sum(n * _month_share(month, start, end) for month, n in months.items())
        totals[resource_id] = round(total)
    return totals


def denials_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → turnaways (No_License + Limit_Exceeded): demand the library did not meet."""
    totals: dict[int, int] = {}
    for resource_id, months in monthly_usage(library, start, end, metrics=DENIAL_METRICS).items():
        totals[resource_id] = round(sum(n * _month_share(m, start, end) for m, n in months.items()))
    return totals
