"""Thesis deposit's figures for the service report (see `lifeline.core.counts`)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.theses.models import Thesis


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)
    mine = Thesis.objects.filter(library=library)
    return [
        Count(
            "thesis",
            "submitted",
            mine.filter(submitted_at__gte=lo, submitted_at__lt=hi).count(),
            _("theses"),
            _("theses submitted online in the period"),
            _("Submitted"),
        ),
        Count(
            "thesis",
            "approved",
            mine.filter(approved_at__gte=lo, approved_at__lt=hi).count(),
            _("theses"),
            _("theses approved online in the period"),
            pgettext_lazy("thesis", "Approved"),
        ),
    ]
