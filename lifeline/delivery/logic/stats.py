"""Delivery statistics, aggregated in the database (100,000 requests in well under a second).

"Requested" counts every request that reached the service (not those answered at once from the
library's own holdings: those are "deflections", counted apart). "Supplied" counts delivered ones.
Fill rate = supplied / requested, in per cent to one decimal, as in the seed's 95.8%.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.delivery.choices import DocType, Status
from lifeline.delivery.models import DeliveryRequest, Supplier

REQUESTED = ~Q(status=Status.DEFLECTED)
SUPPLIED = Q(status=Status.DELIVERED)


def period(start: dt.date, end: dt.date) -> dict[str, dt.datetime]:
    """Local calendar days start..end inclusive, as an aware half-open range on created_at."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)
    return {"created_at__gte": lo, "created_at__lt": hi}


def requests_in(library: Library, start: dt.date, end: dt.date) -> QuerySet[DeliveryRequest]:
    return DeliveryRequest.objects.filter(library=library, **period(start, end))


def fill_rate(requested: int, supplied: int) -> float | None:
    return round(100.0 * supplied / requested, 1) if requested else None


def percentiles(
    qs: QuerySet[DeliveryRequest], fractions: tuple[float, ...] = (0.5, 0.9)
) -> list[float | None]:
    """Nearest-rank percentiles of turnaround, computed by the database.

    PostgreSQL: one `percentile_disc` aggregate. Elsewhere: count, then ORDER BY + OFFSET per
    fraction
    (the same nearest-rank definition: the smallest value with at least that share at or below it).
    """
    values = qs.filter(status=Status.DELIVERED, turnaround_hours__isnull=False)
    if connection.vendor == "postgresql":
        sql, params = values.values("turnaround_hours").query.sql_with_params()
        # `sql` is Django's own compiled query; every value travels as a parameter.
        query = f"SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY t.turnaround_hours) FROM ({sql}) t"  # noqa: S608, E501
        with connection.cursor() as cur:
            cur.execute(query, [list(fractions), *params])
            row = cur.fetchone()[0]
        return (
            [float(v) if v is not None else None for v in row] if row else [None] * len(fractions)
        )
    n = values.count()
    if not n:
        return [None] * len(fractions)
    ordered = values.order_by("turnaround_hours").values_list("turnaround_hours", flat=True)
    picked = [ordered[max(0, min(n - 1, math.ceil(f * n) - 1))] for f in fractions]
    return [None if v is None else float(v) for v in picked]


COUNTERS = {
    "requested": REQUESTED,
    "supplied": SUPPLIED,
    "unfilled": Q(status=Status.UNFILLED),
    "cancelled": Q(status=Status.CANCELLED),
    "open": Q(status__in=[Status.SUBMITTED, Status.IN_PROCESS, Status.REQUESTED]),
    "deflected": Q(status=Status.DEFLECTED),
}


def cube(library: Library, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """One scan of the period grouped by month, type, channel and supplier; every table is summed
    from it.

    A few hundred rows at most (12 months × 9 types × channels × suppliers), so summing in Python is
    free, and the database reads the 100,000 requests once instead of once per table.
    """
    qs = requests_in(library, start, end).annotate(month=TruncMonth("created_at"))
    return [
        dict(row)
        for row in qs.values("month", "doc_type", "channel", "supplier_id")
        .annotate(**{name: Count("id", filter=cond) for name, cond in COUNTERS.items()})
        .order_by()
    ]


def _rollup(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        acc = out.setdefault(row[key], {key: row[key], **dict.fromkeys(COUNTERS, 0)})
        for name in COUNTERS:
            acc[name] += row[name]
    result = sorted(out.values(), key=lambda r: (r[key] is None, r[key]))
    for r in result:
        r["fill_rate"] = fill_rate(r["requested"], r["supplied"])
    return result


def summary(
    library: Library, start: dt.date, end: dt.date, rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    rows = cube(library, start, end) if rows is None else rows
    counts: dict[str, Any] = {name: sum(r[name] for r in rows) for name in COUNTERS}
    counts["fill_rate"] = fill_rate(counts["requested"], counts["supplied"])
    counts["median_hours"], counts["p90_hours"] = percentiles(requests_in(library, start, end))
    days = (end - start).days + 1
    counts["per_day"] = round(counts["requested"] / days, 1) if days > 0 else None
    return counts


def per_month(
    library: Library, start: dt.date, end: dt.date, rows: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    return _rollup(cube(library, start, end) if rows is None else rows, "month")


def per_day(library: Library, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    qs = requests_in(library, start, end).annotate(day=TruncDate("created_at"))
    rows = [
        dict(row)
        for row in qs.values("day")
        .annotate(**{n: Count("id", filter=c) for n, c in COUNTERS.items()})
        .order_by()
    ]
    return _rollup(rows, "day")


def per_type(
    library: Library, start: dt.date, end: dt.date, rows: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    result = _rollup(cube(library, start, end) if rows is None else rows, "doc_type")
    for row in result:
        row["label"] = (
            str(DocType(row["doc_type"]).label)
            if row["doc_type"] in DocType.values
            else row["doc_type"]
        )
    return result


def per_supplier(
    library: Library, start: dt.date, end: dt.date, rows: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The seed's table 3: what each supplier (service) provided in the period."""
    result = [
        r
        for r in _rollup(cube(library, start, end) if rows is None else rows, "supplier_id")
        if r["supplier_id"]
    ]
    names = dict(
        Supplier.objects.filter(pk__in=[r["supplier_id"] for r in result]).values_list("pk", "name")
    )
    for r in result:
        r["supplier__name"] = names.get(r["supplier_id"], "")
    return sorted(result, key=lambda r: -r["supplied"])


def per_channel(
    library: Library, start: dt.date, end: dt.date, rows: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The seed's table 2: requested and supplied per service channel (e.g. WorldLib groups 1 and
    2).
    """
    return _rollup(cube(library, start, end) if rows is None else rows, "channel")
