"""Health's figures for the service report (see `lifeline.core.counts`)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.health import services


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)
    incidents = services.incidents_between(library, lo, hi)
    hours = sum(i["duration_seconds"] for i in incidents) / 3600
    return [
        Count(
            "availability",
            "incidents",
            len(incidents),
            _("incidents"),
            _("access incidents open at any time in the period"),
            _("Incidents"),
        ),
        Count(
            "availability",
            "incident_hours",
            round(hours, 1),
            _("hours"),
            _("total duration of those incidents"),
            _("Incident hours"),
        ),
    ]
