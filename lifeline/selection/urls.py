from django.urls import URLPattern, URLResolver, path

from lifeline.selection import views, views_requests

app_name = "selection"
urlpatterns: list[URLPattern | URLResolver] = [
    # The thin vote (htmx/JSON, a signed ballot): no library in the path; "c/vote/" matches none
    # of the library pages below (their second part is "c/<id>/", "manage", ...).
    path("c/vote/", views.vote, name="vote"),
    path("rec/<int:pk>/", views_requests.recommendation, name="recommendation"),
    path("rec/<int:pk>/<slug:action>/", views_requests.recommendation_act, name="rec_act"),
    path("home/<int:pk>/<slug:action>/", views_requests.delivery_act, name="delivery_act"),
    path("<slug:library>/", views.home, name="home"),
    path("<slug:library>/c/<int:pk>/", views.browse, name="browse"),
    path("<slug:library>/c/<int:pk>/mark/", views.mark, name="mark"),
    path("<slug:library>/manage/", views.manage, name="manage"),
    path("<slug:library>/catalogues/import/", views.import_catalogue, name="import_catalogue"),
    path("<slug:library>/holdings/import/", views.import_holdings, name="import_holdings"),
    path("<slug:library>/campaigns/new/", views.campaign_edit, name="campaign_new"),
    path("<slug:library>/campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("<slug:library>/campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path(
        "<slug:library>/campaigns/<int:pk>/<slug:action>/",
        views.campaign_act,
        name="campaign_act",
    ),
    path("<slug:library>/orders/<int:pk>.<slug:fmt>", views.order_export, name="order_export"),
    path("<slug:library>/statistics/", views.statistics, name="statistics"),
    path("<slug:library>/recommend/", views_requests.recommend, name="recommend"),
    path(
        "<slug:library>/recommendations/",
        views_requests.recommendation_queue,
        name="recommendation_queue",
    ),
    path("<slug:library>/home-delivery/", views_requests.home_delivery, name="home_delivery"),
    path(
        "<slug:library>/home-delivery/queue/",
        views_requests.delivery_queue,
        name="delivery_queue",
    ),
]
