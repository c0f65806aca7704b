from django.urls import URLPattern, URLResolver, path

from lifeline.core import jobviews, views
from lifeline.core.metrics import metrics_view

app_name = "core"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("staff/", views.dashboard, name="dashboard"),
    path("jobs/<int:pk>/", jobviews.job_page, name="job"),
    path("jobs/<int:pk>/cancel/", jobviews.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/download/", jobviews.job_download, name="job_download"),
]
