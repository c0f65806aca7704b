"""Cloud selection's figures for the service report (see `lifeline.core.counts`), under the
seed's "print resources" row (table 1: 云端选书、读者荐购平台、送书服务).

A campaign counts in the period it closes (its last day), with the titles of its adopted order:
the seed counts a campaign's selection once it is done. Recommendations and home deliveries
count on the day they were made; those fulfilled on the day the book arrived or was received.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count as Tally
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.selection.choices import Origin, RecStatus
from lifeline.selection.models import Campaign, HomeDelivery, Recommendation, SelectionLine

KEY = "print"
TITLES = _("titles")


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)
    campaigns = Campaign.objects.filter(library=library, ends_on__gte=start, ends_on__lte=end)
    ordered = SelectionLine.objects.filter(
        selection__campaign__in=campaigns, selection__campaign__order_id=F("selection_id")
    ).aggregate(titles=Tally("id"), patrons=Tally("id", filter=Q(origin=Origin.PATRON)))
    recs = Recommendation.objects.filter(library=library)
    homes = HomeDelivery.objects.filter(library=library)
    return [
        Count(
            KEY,
            "campaigns",
            campaigns.count(),
            _("campaigns"),
            _("cloud selection campaigns that closed in the period"),
            _("Selection campaigns"),
        ),
        Count(
            KEY,
            "selected",
            ordered["titles"],
            TITLES,
            _("titles in the adopted orders of the campaigns that closed in the period"),
            _("Titles selected"),
        ),
        Count(
            KEY,
            "by_patrons",
            ordered["patrons"],
            TITLES,
            _("of the titles selected, those marked by patrons (not only by librarians)"),
            _("By patrons"),
        ),
        Count(
            KEY,
            "recommendations",
            recs.filter(created_at__gte=lo, created_at__lt=hi).count(),
            _("recommendations"),
            _("purchase recommendations made by patrons in the period"),
            _("Recommendations"),
        ),
        Count(
            KEY,
            "recommendations_arrived",
            recs.filter(status=RecStatus.ARRIVED, closed_at__gte=lo, closed_at__lt=hi).count(),
            _("recommendations"),
            _("recommended books that arrived in the period"),
            _("Recommendations fulfilled"),
        ),
        Count(
            KEY,
            "home_deliveries",
            homes.filter(created_at__gte=lo, created_at__lt=hi).count(),
            _("deliveries"),
            _("home deliveries of print books requested in the period"),
            _("Home deliveries"),
        ),
        Count(
            KEY,
            "home_deliveries_received",
            homes.filter(received_at__gte=lo, received_at__lt=hi).count(),
            _("deliveries"),
            _("home deliveries the patron confirmed receiving in the period"),
            _("Home deliveries received"),
        ),
    ]
