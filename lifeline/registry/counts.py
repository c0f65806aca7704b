"""Registry's figures for the service report (see `lifeline.core.counts`): the seed's "33
Chinese classes with 63 sub-databases, 13 foreign with 58; 4 new databases"."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count as DbCount
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.registry.choices import Language, RouteKind
from lifeline.registry.models import Resource

DATABASES = _("databases")


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    # Offered during the period: active (trials included, as the seed counts them) and not ended
    # before it. The registry keeps only the current subscription term (renewed each year), so its
    # start date says nothing about when the library first took the database.
    live = Resource.objects.filter(library=library, is_active=True).filter(
        Q(subscription_end__isnull=True) | Q(subscription_end__gte=start)
    )
    by = {
        (row["top"], row["language"]): row["n"]
        for row in live.annotate(top=Q(parent__isnull=True))
        .values("top", "language")
        .annotate(n=DbCount("id"))
        .order_by()
    }
    tz = timezone.get_current_timezone()
    # New: first subscribed in the period; a row without that date counts from when it was
    # entered in the registry (the best the registry knows).
    new = (
        live.filter(parent__isnull=True)
        .filter(
            Q(first_subscribed__gte=start, first_subscribed__lte=end)
            | Q(
                first_subscribed__isnull=True,
                created_at__gte=dt.datetime.combine(start, dt.time(0), tz),
                created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz),
            )
        )
        .count()
    )
    rows = [
        ("databases_zh", True, Language.CHINESE, _("Chinese databases")),
        ("subdatabases_zh", False, Language.CHINESE, _("Chinese sub-databases")),
        ("databases_foreign", True, Language.FOREIGN, _("Foreign databases")),
        ("subdatabases_foreign", False, Language.FOREIGN, _("Foreign sub-databases")),
    ]
    out = [
        Count(
            "digital_resources",
            measure,
            by.get((top, str(lang)), 0),
            DATABASES,
            _("active resources in the registry during the period"),
            title,
        )
        for measure, top, lang, title in rows
    ]
    # Remote access (seed 3.3.2): databases a patron at home could reach by each route.
    for kind, measure, title in (
        (RouteKind.CARSI, "carsi_databases", _("Databases reachable through CARSI")),
        (RouteKind.VPN, "vpn_databases", _("Databases reachable through the VPN")),
    ):
        out.append(
            Count(
                "remote_access",
                measure,
                live.filter(parent__isnull=True, routes__kind=kind, routes__is_active=True)
                .distinct()
                .count(),
                DATABASES,
                _("active databases with an active route of this kind"),
                title,
            )
        )
    out.append(
        Count(
            "digital_resources",
            "new_databases",
            new,
            DATABASES,
            _("databases first subscribed in the period (else entered in the registry)"),
            _("New databases"),
        )
    )
    return out
