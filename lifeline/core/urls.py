from django.urls import URLPattern, URLResolver, path

from lifeline.core import views

app_name = "core"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("staff/", views.dashboard, name="dashboard"),
]
