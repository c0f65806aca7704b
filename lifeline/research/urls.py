from django.urls import URLPattern, URLResolver, path

from lifeline.research import analysis_views, novelty_views, views

app_name = "research"
urlpatterns: list[URLPattern | URLResolver] = [
    path("r/<int:pk>/", views.detail, name="detail"),
    path("r/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("r/<int:pk>/fee/<slug:action>/", novelty_views.citation_fee, name="citation_fee"),
    path("r/<int:pk>/<slug:action>/", views.act, name="act"),
    path("n/<int:pk>/", novelty_views.novelty_detail, name="novelty"),
    path("n/<int:pk>/pdf/", novelty_views.novelty_pdf, name="novelty_pdf"),
    path("n/<int:pk>/strategy/", novelty_views.novelty_strategy, name="novelty_strategy"),
    path("n/<int:pk>/documents/", novelty_views.novelty_document, name="novelty_document"),
    path("n/<int:pk>/<slug:action>/", novelty_views.novelty_act, name="novelty_act"),
    path("verify/<slug:library>/", views.verify_upload, name="verify_upload"),
    path("verify/<slug:library>/<str:serial>/<str:code>/", views.verify, name="verify"),
    path("<slug:library>/request/", views.new_request, name="new"),
    path("<slug:library>/mine/", views.mine, name="mine"),
    path("<slug:library>/queue/", views.queue, name="queue"),
    path("<slug:library>/statistics/", views.statistics, name="statistics"),
    path("<slug:library>/import/", views.import_view, name="import"),
    path("<slug:library>/novelty/request/", novelty_views.novelty_new, name="novelty_new"),
    path("<slug:library>/novelty/", novelty_views.novelty_queue, name="novelty_queue"),
    path("<slug:library>/analysis/", analysis_views.analysis, name="analysis"),
    path("<slug:library>/analysis/xlsx/", analysis_views.analysis_xlsx, name="analysis_xlsx"),
    path("<slug:library>/analysis/pdf/", analysis_views.analysis_pdf, name="analysis_pdf"),
    path("<slug:library>/analysis/esi/", analysis_views.esi_import, name="esi_import"),
    path("<slug:library>/analysis/reports/", analysis_views.reports, name="analysis_reports"),
    path("<slug:library>/ip/", analysis_views.ip_records, name="ip"),
]
