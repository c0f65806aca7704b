"""Research services' figures for the service report (see `lifeline.core.counts`): the seed's
table 1 rows "subject analysis", "citation and novelty reports" and "intellectual property"."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.research.choices import IpKind
from lifeline.research.logic.counts import service_counts

IP_UNITS = {
    IpKind.APPLICATION: (_("applications"), _("patent applications the library helped file")),
    IpKind.FEE: (_("people"), _("people whose official patent fees the library paid")),
    IpKind.SEARCH: (_("patent searches"), _("patent searches done for patrons")),
    IpKind.TRAINING: (
        _("training sessions"),
        _("training sessions held (e.g. before the attorney exam)"),
    ),
}


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)
    figures = service_counts(library, lo, hi)
    cited, novelty = figures["citation_reports_issued"], figures["novelty_reports_issued"]
    out = [
        Count(
            "citation_reports",
            "reports",
            cited + novelty,
            _("reports"),
            _("citation/inclusion and novelty search reports issued in the period"),
        ),
        Count(
            "citation_reports",
            "citation",
            cited,
            _("reports"),
            _("citation and inclusion reports issued after a second librarian's review"),
            _("Citation and inclusion reports"),
        ),
        Count(
            "citation_reports",
            "novelty",
            novelty,
            _("reports"),
            _("novelty search reports (GB/T 32003-2015) issued after review"),
            _("Novelty searches"),
        ),
        Count(
            "subject_analysis",
            "reports",
            figures["subject_analysis"] + figures["research_output"],
            _("reports"),
            _("subject analysis and research output reports made for units in the period"),
        ),
    ]
    for kind in IpKind:
        unit, how = IP_UNITS[kind]
        out.append(Count("ip", str(kind), figures[f"ip_{kind}"], unit, how, kind.label))
    return out
