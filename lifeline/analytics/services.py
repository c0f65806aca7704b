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
from typing import Any

from django.db.models import Count, F, Sum

from lifeline.analytics.choices import DENIAL_METRICS, Metric
from lifeline.analytics.models import DailyUsage, UsageRecord
from lifeline.core.models import Library
from lifeline.registry.models import Resource

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


def counter_usage_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → COUNTER Total_Item_Requests between start and end, both included."""
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


def log_usage(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → full-text requests counted in access logs between start and end."""
    rows = (
        DailyUsage.objects.filter(log_import__library=library, day__gte=start, day__lte=end)
        .values("resource_id")
        .annotate(n=Sum("requests"))
        .order_by()
    )
    return {r["resource_id"]: r["n"] for r in rows}


def usage_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → total uses between start and end, both included.

    COUNTER (Total_Item_Requests) and access logs (full-text requests) measure the same thing
    from two sides; where both exist the larger is taken rather than the sum, so one download
    is never counted twice.
    """
    totals = counter_usage_between(library, start, end)
    for resource_id, n in log_usage(library, start, end).items():
        totals[resource_id] = max(totals.get(resource_id, 0), n)
    return totals


def off_campus_share(library: Library, start: dt.date, end: dt.date) -> float | None:
    rows = DailyUsage.objects.filter(log_import__library=library, day__gte=start, day__lte=end)
    total = rows.aggregate(n=Sum("requests"))["n"] or 0
    off = rows.filter(on_campus=False).aggregate(n=Sum("requests"))["n"] or 0
    return off / total if total else None


# --- usage-drop signal -----------------------------------------------------------------------

BASELINE_DAYS = 28
MIN_BASELINE = 20.0  # mean daily uses below this are too small to judge a drop
DROP_RATIO = 0.2  # a day below a fifth of the usual is "far below"


def usage_drops(library: Library, day: dt.date) -> list[dict[str, Any]]:
    """Resources whose use on `day` fell far below their mean of the previous 28 days.

    Only days for which logs were imported are judged: no log is not the same as no use."""
    qs = DailyUsage.objects.filter(log_import__library=library)
    if not qs.filter(day=day).exists():
        return []
    start = day - dt.timedelta(days=BASELINE_DAYS)
    past = (
        qs.filter(day__gte=start, day__lt=day)
        .values("resource_id")
        .annotate(n=Sum(F("requests") + F("investigations")), days=Count("day", distinct=True))
        .order_by()
    )
    today = dict(
        qs.filter(day=day)
        .values("resource_id")
        .annotate(n=Sum(F("requests") + F("investigations")))
        .order_by()
        .values_list("resource_id", "n")
    )
    drops = []
    for row in past:
        if row["days"] < BASELINE_DAYS // 2:
            continue  # not enough history
        baseline = row["n"] / row["days"]
        observed = today.get(row["resource_id"], 0)
        if baseline >= MIN_BASELINE and observed < DROP_RATIO * baseline:
            drops.append(
                {
                    "resource_id": row["resource_id"],
                    "day": day.isoformat(),
                    "observed": observed,
                    "baseline": round(baseline, 1),
                    "baseline_days": row["days"],
                }
            )
    return drops


def probes_say_up(resource: Resource) -> bool:
    try:
        from lifeline.health.services import best_state, current_states
    except (ImportError, AttributeError):
        return False
    states = list(current_states(list(resource.routes.values_list("pk", flat=True))).values())
    return best_state(states) == "up"


def signal_usage_drops(day: dt.date | None = None) -> list[dict[str, Any]]:
    """The daily job: for each drop while probes say the resource is up, a suspected fault."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    day = day or timezone.localdate() - dt.timedelta(days=1)
    try:
        from lifeline.health.services import raise_suspected_fault
    except (ImportError, AttributeError):
        raise_suspected_fault = None
    raised = []
    for library in Library.objects.all():
        for drop in usage_drops(library, day):
            resource = Resource.objects.get(pk=drop["resource_id"])
            if not probes_say_up(resource):
                continue  # the health checks already see it down: their incident covers it
            reason = _(
                "Use of %(resource)s fell to %(observed)s on %(day)s against about %(baseline)s a "
                "day before, while the probes say it is up."
            ) % {
                "resource": resource,
                "observed": drop["observed"],
                "day": drop["day"],
                "baseline": drop["baseline"],
            }
            if raise_suspected_fault is not None:
                raise_suspected_fault(resource, reason=reason, evidence=drop)
            raised.append(drop)
    return raised
