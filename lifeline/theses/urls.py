from django.urls import URLPattern, URLResolver, path

from lifeline.theses import views

app_name = "theses"
urlpatterns: list[URLPattern | URLResolver] = [
    path("verify/", views.verify, name="verify_form"),
    path("verify/key/", views.public_key, name="public_key"),
    path("verify/<str:serial>/", views.verify, name="verify"),
    path("t/<int:pk>/", views.detail, name="detail"),
    path("t/<int:pk>/receipt/", views.receipt_pdf, name="receipt"),
    path("t/<int:pk>/v/<int:number>/", views.version_file, name="file"),
    path("t/<int:pk>/v/<int:number>/a/<int:attachment>/", views.version_file, name="attachment"),
    path("t/<int:pk>/<slug:action>/", views.act, name="act"),
    path("<slug:library>/", views.home, name="home"),
    path("<slug:library>/submit/", views.submit, name="submit"),
    path("<slug:library>/queue/", views.queue, name="queue"),
    path("<slug:library>/queue/approve/", views.batch_approve, name="batch_approve"),
    path("<slug:library>/import/", views.import_view, name="import"),
    path("<slug:library>/cleared.xlsx", views.cleared_export, name="cleared"),
    path("<slug:library>/calis.<str:fmt>", views.calis_export, name="calis"),
    path("<slug:library>/statistics/", views.statistics, name="statistics"),
]
