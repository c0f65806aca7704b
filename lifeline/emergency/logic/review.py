"""The after-action review of one event: what happened, what was late or not done, and what the
other modules saw over the same period (access incidents, document delivery, usage against the
same period a year earlier). Those modules are written separately: a missing one leaves its
section empty instead of breaking the review.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from lifeline.emergency.choices import TaskStatus
from lifeline.emergency.models import Event, EventTask

log = logging.getLogger(__name__)


def hours(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _incidents(event: Event, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]] | None:
    try:
        from lifeline.health.services import incidents_between

        return list(incidents_between(event.library, start, end))
    except (ImportError, AttributeError, TypeError):  # module absent, or its contract moved
        log.warning("review: access incidents unavailable", exc_info=True)
        return None


def _delivery(event: Event, start: dt.date, end: dt.date) -> dict[str, Any] | None:
    try:
        from lifeline.delivery.services import volume_between

        return dict(volume_between(event.library, start, end))
    except (ImportError, AttributeError, TypeError):
        log.warning("review: delivery volumes unavailable", exc_info=True)
        return None


def _usage(event: Event, start: dt.date, end: dt.date) -> list[dict[str, Any]] | None:
    try:
        from lifeline.analytics.services import usage_between

        now = usage_between(event.library, start, end)
        before = usage_between(event.library, _year_earlier(start), _year_earlier(end))
    except (ImportError, AttributeError, TypeError):
        log.warning("review: usage unavailable", exc_info=True)
        return None
    from lifeline.registry.models import Resource

    names = {r.pk: str(r) for r in Resource.objects.filter(pk__in=set(now) | set(before))}
    rows = []
    for rid in sorted(set(now) | set(before), key=lambda r: -(now.get(r, 0))):
        a, b = now.get(rid, 0), before.get(rid, 0)
        rows.append(
            {
                "resource": names.get(rid, str(rid)),
                "uses": a,
                "year_before": b,
                "change": None if not b else round((a - b) * 100 / b, 1),
            }
        )
    return rows


def build(event: Event, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the review shows, in plain values (the page, the PDF and the XLSX read it)."""
    now = now or timezone.now()
    end = event.closed_at or now
    tasks: list[EventTask] = list(event.tasks.all().order_by("due_at", "position"))
    live = [t for t in tasks if t.status != TaskStatus.WITHDRAWN]
    done = [t for t in live if t.status == TaskStatus.DONE]
    late = [t for t in done if t.was_late]
    not_done = [t for t in live if t.status in (TaskStatus.NOT_DONE, TaskStatus.OPEN)]
    first = min((t.done_at for t in done if t.done_at), default=None)
    start_day, end_day = timezone.localdate(event.declared_at), timezone.localdate(end)
    return {
        "event": event,
        "start": event.declared_at,
        "end": end,
        "duration_hours": hours(end - event.declared_at),
        "timeline": list(event.timeline.all()),
        "tasks": tasks,
        "total": len(live),
        "done": len(done),
        "on_time": len(done) - len(late),
        "late": late,
        "not_done": not_done,
        "withdrawn": len(tasks) - len(live),
        "first_action_at": first,
        "time_to_first_action_hours": hours(first - event.declared_at) if first else None,
        "incidents": _incidents(event, event.declared_at, end),
        "delivery": _delivery(event, start_day, end_day),
        "usage": _usage(event, start_day, end_day),
    }
