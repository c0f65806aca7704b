from django.urls import URLPattern, URLResolver, path

from lifeline.push import robot_views, views

app_name = "push"
urlpatterns: list[URLPattern | URLResolver] = [
    # Patron site (public, read-only) and the subscription form.
    path("lib/<str:code>/news/", views.index, name="index"),
    path("lib/<str:code>/news/feed.atom", views.feed, name="feed"),
    path("lib/<str:code>/news/subscribe/", views.subscribe, name="subscribe"),
    path("lib/<str:code>/news/<int:pk>/", views.detail, name="detail"),
    path("lib/<str:code>/news/topic/<slug:topic>/feed.atom", views.feed, name="topic_feed"),
    # Signed links from e-mails (no library in the URL: the token names the subscriber).
    path("push/-/confirm/<str:token>/", views.confirm, name="confirm"),
    path("push/-/u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("push/-/o/<int:pk>/<str:token>.gif", views.opened, name="open"),
    path("push/-/c/<str:token>/", views.click, name="click"),
    # Staff.
    path("push/<str:code>/", views.staff_list, name="staff"),
    path("push/<str:code>/new/", views.edit, name="new"),
    path("push/<str:code>/stats/", views.stats_page, name="stats"),
    path("push/<str:code>/robots/", robot_views.robot_list, name="robots"),
    path("push/<str:code>/robots/new/", robot_views.robot_edit, name="robot_new"),
    path("push/<str:code>/robots/<int:pk>/", robot_views.robot_edit, name="robot_edit"),
    path("push/<str:code>/robots/<int:pk>/action/", robot_views.robot_action, name="robot_action"),
    path("push/<str:code>/stats.xlsx", views.stats_xlsx, name="stats_xlsx"),
    path("push/<str:code>/<int:pk>/", views.manage, name="manage"),
    path("push/<str:code>/<int:pk>/edit/", views.edit, name="edit"),
    path("push/<str:code>/<int:pk>/progress/", views.progress_view, name="progress"),
    path("push/<str:code>/<int:pk>/wechat.html", views.wechat, name="wechat"),
]
