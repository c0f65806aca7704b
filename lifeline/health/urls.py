from django.urls import URLPattern, URLResolver, path

from lifeline.health import standin, views

app_name = "health"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.status_home, name="home"),
    path("vendor/<str:token>/", views.vendor_reply, name="vendor_reply"),
    # Demo mode only (404 otherwise): the stand-in vendor site, its break/mend page, the mailbox.
    path("demo-vendor/<slug:key>/", standin.standin_page, name="standin_page"),
    path("<slug:code>/staff/demo-vendor/", standin.standin_admin, name="standin_admin"),
    path("<slug:code>/staff/mailbox/", standin.mailbox, name="mailbox"),
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
