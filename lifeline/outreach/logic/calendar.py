"""The public events calendar as iCalendar (RFC 5545), in the language of the request.

Times are written in UTC (the "Z" form): every calendar client places them in its own zone, and
no VTIMEZONE block is needed. Chinese text goes out as UTF-8, folded by the icalendar package.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as VEvent

from lifeline.core.models import Library
from lifeline.outreach.models import Session

PAST = dt.timedelta(days=90)


def feed(library: Library, base_url: str, *, now: dt.datetime | None = None) -> bytes:
    now = now or timezone.now()
    cal = Calendar()
    cal.add("prodid", "-//Lifeline//outreach//EN")
    cal.add("version", "2.0")
    cal.add(
        "x-wr-calname",
        f"{library.display_name} · {_('Events')}",
    )
    sessions = (
        Session.objects.filter(
            event__library=library, event__is_public=True, ends_at__gte=now - PAST
        )
        .select_related("event")
        .order_by("starts_at")[:2000]
    )
    for s in sessions:
        ev = VEvent()
        ev.add("uid", f"outreach-session-{s.pk}@{library.code}.lifeline")
        ev.add("dtstamp", now.astimezone(dt.UTC))
        ev.add("dtstart", s.starts_at.astimezone(dt.UTC))
        ev.add("dtend", s.ends_at.astimezone(dt.UTC))
        ev.add("summary", s.event.display("title"))
        description = s.event.display("description")
        if description:
            ev.add("description", description)
        location = s.location or (_("Online") if s.event.online else "")
        if location:
            ev.add("location", location)
        ev.add("url", f"{base_url}/outreach/e/{s.event_id}/")
        cal.add_component(ev)
    return cal.to_ical()
