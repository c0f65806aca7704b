from django.urls import URLPattern, URLResolver, path

from lifeline.health import views

app_name = "health"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.status_home, name="home"),
    path("vendor/<str:token>/", views.vendor_reply, name="vendor_reply"),
    path("<slug:code>/", views.status_page, name="page"),
    path("<slug:code>/feed.atom", views.status_feed, name="feed"),
    path("<slug:code>/status.json", views.status_json, name="json"),
    path("<slug:code>/incidents/<int:pk>/", views.incident_public, name="incident"),
    path("<slug:code>/report/", views.report, name="report"),
    path("<slug:code>/staff/", views.staff_incidents, name="staff_incidents"),
    path("<slug:code>/staff/incidents/<int:pk>/", views.staff_incident, name="staff_incident"),
    path("<slug:code>/staff/reports/<int:pk>/screenshot", views.screenshot, name="screenshot"),
    path("<slug:code>/staff/routes/<int:route_id>/probe/", views.probe_config, name="probe_config"),
    path("<slug:code>/staff/routes/<int:route_id>/probe-now/", views.probe_now, name="probe_now"),
]
