from django.urls import URLPattern, URLResolver, path

from lifeline.registry import views

app_name = "registry"
urlpatterns: list[URLPattern | URLResolver] = [
    path("lib/<slug:library>/", views.az, name="az"),
]
