"""One API: every app's router under /api/, one OpenAPI 3 document at /api/schema/.

Every API view runs in a context of its own (`audit_scoped`), so the actor that token
authentication records for the audit log ends with the request.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from lifeline.accounts.api import router as accounts_router
from lifeline.analytics.api import router as analytics_router
from lifeline.core.api import MeView
from lifeline.core.api import router as core_router
from lifeline.core.api_base import audit_scoped
from lifeline.delivery.api import router as delivery_router
from lifeline.emergency.api import router as emergency_router
from lifeline.health.api import router as health_router
from lifeline.knowledge.api import router as knowledge_router
from lifeline.outreach.api import router as outreach_router
from lifeline.push.api import router as push_router
from lifeline.reference.api import router as reference_router
from lifeline.registry.api import router as registry_router
from lifeline.reports.api import urlpatterns as reports_urls
from lifeline.research.api import router as research_router
from lifeline.selection.api import router as selection_router
from lifeline.theses.api import router as theses_router


def scoped(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """The same URL patterns with each view wrapped in `audit_scoped` (functools.wraps keeps the
    `cls`/`actions` attributes drf-spectacular reads)."""
    out: list[URLPattern | URLResolver] = []
    for p in patterns:
        if isinstance(p, URLPattern):
            out.append(URLPattern(p.pattern, audit_scoped(p.callback), p.default_args, p.name))
        else:
            out.append(p)
    return out


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """An unknown /api/ path answers in JSON like every other API error, not with an HTML page."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("core/me/", audit_scoped(MeView.as_view()), name="api-me"),
    path("core/", include(scoped(core_router.urls))),
    path("registry/", include(scoped(registry_router.urls))),
    path("health/", include(scoped(health_router.urls))),
    path("emergency/", include(scoped(emergency_router.urls))),
    path("delivery/", include(scoped(delivery_router.urls))),
    path("analytics/", include(scoped(analytics_router.urls))),
    path("accounts/", include(scoped(accounts_router.urls))),
    path("theses/", include(scoped(theses_router.urls))),
    path("selection/", include(scoped(selection_router.urls))),
    path("research/", include(scoped(research_router.urls))),
    path("outreach/", include(scoped(outreach_router.urls))),
    path("reports/", include(scoped(reports_urls))),
    path("push/", include(scoped(push_router.urls))),
    path("reference/", include(scoped(reference_router.urls))),
    path("knowledge/", include(scoped(knowledge_router.urls))),
    # Last: anything else under /api/ (a mistyped path, a code that is no slug).
    re_path(r"^(?P<rest>.*)$", not_found, name="api-not-found"),
]
