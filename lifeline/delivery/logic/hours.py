"""The service-hours clock: the 24 h target counts only the hours the service is open.

The seed's service ran 08:00–22:00 every day; `DELIVERY_SERVICE_HOURS` ("HH:MM-HH:MM") changes it.
A request filed at 21:00 with a 24 h target is therefore due 10 h into the day after next, not at
21:00 tomorrow.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def window() -> tuple[dt.time, dt.time]:
    start, end = (part.strip() for part in settings.DELIVERY_SERVICE_HOURS.split("-", 1))
    opens, closes = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
    if closes <= opens:
        raise ValueError("DELIVERY_SERVICE_HOURS must open before it closes, e.g. 08:00-22:00")
    return opens, closes


def _day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    opens, closes = window()
    return dt.datetime.combine(day, opens, tz), dt.datetime.combine(day, closes, tz)


def service_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    """Open hours between two instants (0 when end is before start)."""
    if end <= start:
        return 0.0
    tz = timezone.get_current_timezone()
    start, end = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = start.date()
    while day <= end.date():
        lo, hi = _day_bounds(day, tz)
        overlap = (min(hi, end) - max(lo, start)).total_seconds()
        if overlap > 0:
            total += overlap
        day += dt.timedelta(days=1)
    return total / 3600


def add_service_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """The instant when `hours` open hours have passed after `start`."""
    tz = timezone.get_current_timezone()
    at = start.astimezone(tz)
    left = dt.timedelta(hours=hours)
    while True:
        lo, hi = _day_bounds(at.date(), tz)
        if at < lo:
            at = lo
        if at < hi:
            if at + left <= hi:
                return at + left
            left -= hi - at
        at = dt.datetime.combine(at.date() + dt.timedelta(days=1), dt.time(0), tz)


def due_at(created: dt.datetime) -> dt.datetime:
    return add_service_hours(created, settings.DELIVERY_TARGET_HOURS)
