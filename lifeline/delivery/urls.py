from django.urls import URLPattern, URLResolver, path

from lifeline.delivery import views, views_iso

app_name = "delivery"
urlpatterns: list[URLPattern | URLResolver] = [
    path("iso18626/", views_iso.endpoint, name="iso18626"),
    path("iso18626/doc/<str:token>/", views_iso.document, name="iso_document"),
    path("r/<int:pk>/iso/<int:txn>/", views_iso.act, name="iso_act"),
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
]
