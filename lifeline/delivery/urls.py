from django.urls import URLPattern, URLResolver, path

from lifeline.delivery import views

app_name = "delivery"
urlpatterns: list[URLPattern | URLResolver] = [
    path("iso18626/", views.iso18626_endpoint, name="iso18626"),
    path("r/<int:pk>/", views.detail, name="detail"),
    path("r/<int:pk>/<slug:action>/", views.act, name="act"),
    path("f/<str:token>/", views.download, name="download"),
    path("<slug:library>/new/", views.new_request, name="new"),
    path("<slug:library>/mine/", views.my_requests, name="mine"),
    path("<slug:library>/queue/", views.queue, name="queue"),
    path("<slug:library>/statistics/", views.statistics, name="statistics"),
    path("<slug:library>/suppliers/", views.suppliers, name="suppliers"),
    path("<slug:library>/suppliers/new/", views.supplier_edit, name="supplier_new"),
    path("<slug:library>/suppliers/<int:pk>/", views.supplier_edit, name="supplier_edit"),
    path("<slug:library>/import/", views.import_view, name="import"),
    path("<slug:library>/import/<int:pk>/", views.import_job, name="import_job"),
]
