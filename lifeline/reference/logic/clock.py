"""The desk's clock: targets count only the library's service hours.

Delivery's clock (`delivery/logic/hours.py`) reads one window from settings; the reference desk
keeps its window per library (the seed's 08:00–22:00 is one library's, a partner's may differ),
so the two functions here take the window as arguments. A question asked at 21:50 with a
30-minute target is due at 08:20 the next morning, not at 22:20.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def _bounds(day: dt.date, opens: dt.time, closes: dt.time) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(day, opens, tz), dt.datetime.combine(day, closes, tz)


def service_minutes(start: dt.datetime, end: dt.datetime, opens: dt.time, closes: dt.time) -> float:
    """Open minutes between two instants (0 when end is not after start)."""
    if end <= start:
        return 0.0
    tz = timezone.get_current_timezone()
    start, end = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = start.date()
    while day <= end.date():
        lo, hi = _bounds(day, opens, closes)
        overlap = (min(hi, end) - max(lo, start)).total_seconds()
        if overlap > 0:
            total += overlap
        day += dt.timedelta(days=1)
    return total / 60


def add_service_minutes(
    start: dt.datetime, minutes: float, opens: dt.time, closes: dt.time
) -> dt.datetime:
    """The instant when `minutes` open minutes have passed after `start`."""
    if closes <= opens:
        raise ValueError("the service must open before it closes")
    tz = timezone.get_current_timezone()
    at = start.astimezone(tz)
    left = dt.timedelta(minutes=minutes)
    while True:
        lo, hi = _bounds(at.date(), opens, closes)
        if at < lo:
            at = lo
        if at < hi:
            if at + left <= hi:
                return at + left
            left -= hi - at
        at = dt.datetime.combine(at.date() + dt.timedelta(days=1), dt.time(0), tz)
