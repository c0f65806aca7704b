from django.urls import URLPattern, URLResolver, path

from lifeline.registry import views

app_name = "registry"
urlpatterns: list[URLPattern | URLResolver] = [
    path("lib/<slug:library>/", views.az, name="az"),
    path("lib/<slug:library>/r/<slug:key>/", views.resource, name="resource"),
    path(
        "staff/registry/<slug:library>/attention.xlsx",
        views.attention_export,
        name="attention_xlsx",
    ),
]

# Staff import/export pages (lifeline/registry/io): /staff/registry/import/, kbart/, export/.
from lifeline.registry.io.urls import urlpatterns as io_urlpatterns  # noqa: E402

urlpatterns += io_urlpatterns
