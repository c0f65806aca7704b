"""One API: every app's router under /api/, one OpenAPI 3 document at /api/schema/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from lifeline.accounts.api import router as accounts_router
from lifeline.analytics.api import router as analytics_router
from lifeline.core.api import router as core_router
from lifeline.delivery.api import router as delivery_router
from lifeline.emergency.api import router as emergency_router
from lifeline.health.api import router as health_router
from lifeline.registry.api import router as registry_router

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("core/", include(core_router.urls)),
    path("registry/", include(registry_router.urls)),
    path("health/", include(health_router.urls)),
    path("emergency/", include(emergency_router.urls)),
    path("delivery/", include(delivery_router.urls)),
    path("analytics/", include(analytics_router.urls)),
    path("accounts/", include(accounts_router.urls)),
]
