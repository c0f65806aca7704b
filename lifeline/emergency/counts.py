"""Emergency's figures for the service report (see `lifeline.core.counts`), and the spans of
its events, which are the report's default periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.emergency.models import Event


@dataclass(frozen=True)
class Span:
    event_id: int
    title: str
    start: dt.date
    end: dt.date


def event_spans(library: Library, today: dt.date | None = None) -> list[Span]:
    """Each real event's span in local days (an event still in force runs to today), newest
    first."""
    today = today or timezone.localdate()
    out = []
    for e in Event.objects.filter(library=library, is_drill=False).order_by("-declared_at"):
        start = timezone.localdate(e.declared_at)
        end = timezone.localdate(e.closed_at) if e.closed_at else max(today, start)
        out.append(Span(e.pk, str(e), start, end))
    return out


def event_span(library: Library, event_id: int) -> Span | None:
    return next((s for s in event_spans(library) if s.event_id == event_id), None)


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)
    declared = Event.objects.filter(library=library, declared_at__gte=lo, declared_at__lt=hi)
    return [
        Count(
            "emergency",
            "events",
            declared.filter(is_drill=False).count(),
            _("events"),
            _("emergency events declared in the period"),
            _("Events"),
        ),
        Count(
            "emergency",
            "drills",
            declared.filter(is_drill=True).count(),
            _("drills"),
            _("drills declared in the period"),
            _("Drills"),
        ),
    ]
