from django.urls import URLPattern, URLResolver, path

from lifeline.analytics import logviews, views

app_name = "analytics"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("import/", views.upload, name="upload"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("sources/", views.sources, name="sources"),
    path("renewal/", views.renewal_view, name="renewal"),
    path("renewal/<int:pk>/", views.renewal_plan, name="renewal_plan"),
    path("charts/", views.charts_view, name="charts"),
    path("titles/", views.titles_view, name="titles"),
    path("rates/", views.rates_view, name="rates"),
    path("logs/", views.logs_index, name="logs"),
    path("logs/<int:pk>/", views.log_detail, name="log"),
    path("logs/rules/", logviews.log_rules, name="log_rules"),
    path("logs/compare/", logviews.log_compare, name="log_compare"),
    path("logs/rules/<int:pk>/delete/", logviews.log_rule_delete, name="log_rule_delete"),
    path("sushi/", views.sushi_index, name="sushi"),
    path("sushi/new/", views.sushi_edit, name="sushi_new"),
    path("sushi/<int:pk>/", views.sushi_edit, name="sushi_edit"),
    path("sushi/<int:pk>/harvest/", views.sushi_harvest, name="sushi_harvest"),
    path("sushi/harvests/<int:pk>/reimport/", views.sushi_reimport, name="sushi_reimport"),
]
