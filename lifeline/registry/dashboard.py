"""The registry's panel on the staff dashboard: what is there, and what needs a librarian now."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.registry.choices import ROUTE_COLOURS, ROUTE_PREFERENCE, Language
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor

# Long lists would bury the rest of the dashboard; the admin link shows everything.
LIST_LIMIT = 25
EXPIRY_DAYS = 30


def attention(library: Library) -> tuple[QuerySet[AccessRoute], QuerySet[Resource]]:
    """What needs a librarian: routes ending within 30 days, databases with no way in from home."""
    expiring = (
        AccessRoute.objects.filter(resource__library=library)
        .expiring(EXPIRY_DAYS)
        .select_related("resource")
        .order_by("ends_on", "pk")
    )
    off_campus = AccessRoute.objects.off_campus().values("resource_id")
    no_home = (
        Resource.objects.filter(library=library)
        .active()
        .top_level()
        .exclude(pk__in=off_campus)
        .select_related("category")
        .order_by("name")
    )
    return expiring, no_home


def attention_xlsx(library: Library) -> bytes:
    """Both lists as a workbook, in the request's language, for the weekly e-resources meeting."""
    expiring, no_home = attention(library)
    return xlsx_bytes(
        {
            _("Routes ending soon"): (
                [
                    _("Ends"),
                    _("Database"),
                    pgettext("identifier", "Key"),
                    _("Route"),
                    pgettext("address", "URL"),
                ],
                [
                    (r.ends_on, str(r.resource), r.resource.key, r.get_kind_display(), r.link())
                    for r in expiring
                ],
            ),
            _("No way in from home"): (
                [_("Database"), pgettext("identifier", "Key"), _("Category"), _("Language")],
                [(str(r), r.key, str(r.category or ""), r.get_language_display()) for r in no_home],
            ),
        }
    )


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
    expiring_qs, no_home_qs = attention(library)
    by_kind = dict(
        routes.current().values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    route_counts = [
        (kind.label, ROUTE_COLOURS[kind], by_kind.get(kind, 0)) for kind in ROUTE_PREFERENCE
    ]
    expiring = list(expiring_qs[:LIST_LIMIT])
    no_home = list(no_home_qs[:LIST_LIMIT])
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
        "expiring_total": expiring_qs.count() if len(expiring) == LIST_LIMIT else len(expiring),
        "no_home": no_home,
        "no_home_total": no_home_qs.count() if len(no_home) == LIST_LIMIT else len(no_home),
        # No chart title: the chart module styles titles inline, which the CSP forbids; the
        # panel's own <h3> names the chart. 420 wide: labels stay legible scaled to a phone.
        "chart": bar_chart(labels, values, width=420) if values else "",
        "expiry_days": EXPIRY_DAYS,
    }
