"""The registry's panel on the staff dashboard: what is there, and what needs a librarian now."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.registry.choices import ROUTE_COLOURS, ROUTE_PREFERENCE, Language
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor

# Long lists would bury the rest of the dashboard; the admin link shows everything.
LIST_LIMIT = 25


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    if not user_can(request.user, library):
        return None
    active = Resource.objects.filter(library=library).active()
    counts = active.aggregate(
        resources=Count("pk", filter=Q(parent__isnull=True)),
        sub_databases=Count("pk", filter=Q(parent__isnull=False)),
        chinese=Count("pk", filter=Q(parent__isnull=True, language=Language.CHINESE)),
        foreign=Count("pk", filter=Q(parent__isnull=True, language=Language.FOREIGN)),
        trials=Count("pk", filter=Q(is_trial=True)),
    )
    counts["vendors"] = Vendor.objects.filter(library=library).count()
    routes = AccessRoute.objects.filter(resource__library=library)
    by_kind = dict(
        routes.current().values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    route_counts = [
        (kind.label, ROUTE_COLOURS[kind], by_kind.get(kind, 0)) for kind in ROUTE_PREFERENCE
    ]
    expiring = list(
        routes.expiring(30).select_related("resource").order_by("ends_on", "pk")[:LIST_LIMIT]
    )
    no_home_qs = active.top_level().exclude(
        pk__in=AccessRoute.objects.off_campus().values("resource_id")
    )
    no_home = list(no_home_qs.order_by("name")[:LIST_LIMIT])
    categories = (
        Category.objects.filter(library=library)
        .annotate(
            n=Count(
                "resources", filter=Q(resources__is_active=True, resources__parent__isnull=True)
            )
        )
        .filter(n__gt=0)
        .order_by("-n", "language", "position", "name")
    )
    labels = [str(c) for c in categories]
    values = [c.n for c in categories]
    uncategorised = active.top_level().filter(category__isnull=True).count()
    if uncategorised:
        labels.append(_("(no category)"))
        values.append(uncategorised)
    return {
        "template": "registry/_dashboard_panel.html",
        "library": library,
        "counts": counts,
        "route_counts": route_counts,
        "expiring": expiring,
        "expiring_total": routes.expiring(30).count()
        if len(expiring) == LIST_LIMIT
        else len(expiring),
        "no_home": no_home,
        "no_home_total": no_home_qs.count() if len(no_home) == LIST_LIMIT else len(no_home),
        # No chart title: the chart module styles titles inline, which the CSP forbids; the
        # panel's own <h3> names the chart.
        "chart": bar_chart(labels, values) if values else "",
        "can_change": user_can(request.user, library, "registry.change"),
    }
