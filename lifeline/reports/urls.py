from django.urls import path

from lifeline.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:library>/", views.report, name="report"),
    path("<slug:library>/pdf/", views.report_pdf, name="pdf"),
]
