from django.urls import URLPattern, URLResolver, path

from lifeline.research import views

app_name = "research"
urlpatterns: list[URLPattern | URLResolver] = [
    path("r/<int:pk>/", views.detail, name="detail"),
    path("r/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("r/<int:pk>/<slug:action>/", views.act, name="act"),
    path("verify/<slug:library>/", views.verify_upload, name="verify_upload"),
    path("verify/<slug:library>/<str:serial>/<str:code>/", views.verify, name="verify"),
    path("<slug:library>/request/", views.new_request, name="new"),
    path("<slug:library>/mine/", views.mine, name="mine"),
    path("<slug:library>/queue/", views.queue, name="queue"),
    path("<slug:library>/statistics/", views.statistics, name="statistics"),
    path("<slug:library>/import/", views.import_view, name="import"),
    path("<slug:library>/import/<int:pk>/", views.import_job, name="import_job"),
]
