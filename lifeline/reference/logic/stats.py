"""Statistics of the desk: questions per channel, day and hour; first-response and resolution
times (service minutes); deflection rate; ratings. One pass over the period's tickets (a
library's month is thousands of rows, not millions), shared by the page, the XLSX export, the
service report and the dashboard."""

from __future__ import annotations

import datetime as dt
import statistics as pystats
from collections import Counter
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from lifeline.core.charts import bar_chart, line_chart
from lifeline.core.models import Library
from lifeline.reference.choices import CloseReason, TicketChannel
from lifeline.reference.models import DeskSettings, Ticket


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(0), tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz),
    )


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    ordered = sorted(values)
    return {
        "count": len(values),
        "mean": round(pystats.fmean(values), 1),
        "median": round(pystats.median(values), 1),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
    }


def report(library: Library, start: dt.date, end: dt.date) -> dict[str, Any]:
    lo, hi = _bounds(start, end)
    desk = DeskSettings.for_library(library)
    rows = list(
        Ticket.objects.filter(library=library, created_at__gte=lo, created_at__lt=hi).values_list(
            "channel",
            "created_at",
            "first_response_minutes",
            "resolution_minutes",
            "close_reason",
            "rating",
        )
    )
    tz = timezone.get_current_timezone()
    per_channel = Counter(r[0] for r in rows)
    per_day = Counter(r[1].astimezone(tz).date() for r in rows)
    per_hour = Counter(r[1].astimezone(tz).hour for r in rows)
    first = [r[2] for r in rows if r[2] is not None]
    resolution = [r[3] for r in rows if r[3] is not None]
    deflected = sum(1 for r in rows if r[4] == CloseReason.DEFLECTED)
    ratings = [r[5] for r in rows if r[5]]
    days = []
    day = start
    while day <= end:
        days.append((day, per_day.get(day, 0)))
        day += dt.timedelta(days=1)
    within = sum(1 for m in first if m <= desk.first_response_minutes)
    return {
        "start": start,
        "end": end,
        "total": len(rows),
        "per_channel": [(c.label, per_channel.get(c.value, 0)) for c in TicketChannel],
        "per_day": days,
        "per_hour": [(h, per_hour.get(h, 0)) for h in range(24)],
        "first_response": _summary(first),
        "first_response_target": desk.first_response_minutes,
        "within_target": round(100 * within / len(first), 1) if first else None,
        "resolution": _summary(resolution),
        "deflected": deflected,
        "deflection_rate": round(100 * deflected / len(rows), 1) if rows else None,
        "ratings": _summary([float(r) for r in ratings]),
        "rating_counts": [(s, sum(1 for r in ratings if r == s)) for s in range(5, 0, -1)],
    }


def charts(r: dict[str, Any]) -> dict[str, SafeString]:
    return {
        "channel": bar_chart(
            [str(label) for label, _n in r["per_channel"]],
            [n for _label, n in r["per_channel"]],
            title=_("Questions per channel"),
        ),
        "day": line_chart(
            [d.strftime("%m-%d") for d, _n in r["per_day"]],
            {_("Questions"): [n for _d, n in r["per_day"]]},
            title=_("Questions per day"),
        ),
        "hour": bar_chart(
            [f"{h:02d}:00" for h, _n in r["per_hour"]],
            [n for _h, n in r["per_hour"]],
            title=_("Questions per hour of the day"),
            bar_height=12,
        ),
    }


def sheets(r: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    def fig(s: dict[str, Any], key: str) -> Any:
        return s[key] if s[key] is not None else ""

    summary = [
        [_("Questions"), r["total"]],
        [_("First answer, median (service minutes)"), fig(r["first_response"], "median")],
        [_("First answer, mean (service minutes)"), fig(r["first_response"], "mean")],
        [
            _("First answers within the target (%)"),
            r["within_target"] if r["within_target"] is not None else "",
        ],
        [_("Resolution, median (service minutes)"), fig(r["resolution"], "median")],
        [_("Solved by a suggested article"), r["deflected"]],
        [
            _("Deflection rate (%)"),
            r["deflection_rate"] if r["deflection_rate"] is not None else "",
        ],
        [_("Ratings"), r["ratings"]["count"]],
        [_("Mean rating"), fig(r["ratings"], "mean")],
    ]
    return {
        _("Summary"): ([_("Measure"), _("Value")], summary),
        _("Channels"): ([_("Channel"), _("Questions")], [[str(c), n] for c, n in r["per_channel"]]),
        _("Days"): ([_("Date"), _("Questions")], [[d.isoformat(), n] for d, n in r["per_day"]]),
        _("Hours"): ([_("Hour"), _("Questions")], [[f"{h:02d}:00", n] for h, n in r["per_hour"]]),
    }
