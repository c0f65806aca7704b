from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("lifeline.api_urls")),
    path("accounts/", include("lifeline.accounts.urls")),
    path("status/", include("lifeline.health.urls")),
    path("emergency/", include("lifeline.emergency.urls")),
    path("delivery/", include("lifeline.delivery.urls")),
    path("analytics/", include("lifeline.analytics.urls")),
    path("theses/", include("lifeline.theses.urls")),
    path("selection/", include("lifeline.selection.urls")),
    path("research/", include("lifeline.research.urls")),
    path("outreach/", include("lifeline.outreach.urls")),
    path("reports/", include("lifeline.reports.urls")),
    path("", include("lifeline.push.urls")),
    path("", include("lifeline.reference.urls")),
    path("", include("lifeline.knowledge.urls")),
    path("", include("lifeline.registry.urls")),
    path("", include("lifeline.core.urls")),
]

# An unreachable database answers a friendly 503 (and JSON for /api/), not the 500 page.
handler500 = "lifeline.core.dbdown.server_error"
