from django.urls import URLPattern, URLResolver, path

from lifeline.reference import views, views_staff

app_name = "reference"
urlpatterns: list[URLPattern | URLResolver] = [
    path("lib/<slug:code>/ask/", views.ask, name="ask"),
    path("lib/<slug:code>/ask/mine/", views.mine, name="mine"),
    path("lib/<slug:code>/ask/<str:token>/", views.thread, name="thread"),
    path("lib/<slug:code>/ask/<str:token>/messages/", views.thread_messages, name="messages"),
    path("lib/<slug:code>/ask/<str:token>/solved/", views.solved, name="solved"),
    path("lib/<slug:code>/ask/<str:token>/rate/", views.rate, name="rate"),
    path("reference/<slug:code>/", views_staff.queue, name="queue"),
    path("reference/<slug:code>/t/<int:pk>/", views_staff.ticket_detail, name="ticket"),
    path("reference/<slug:code>/t/<int:pk>/<slug:action>/", views_staff.ticket_act, name="act"),
    path("reference/<slug:code>/phone/", views_staff.phone, name="phone"),
    path("reference/<slug:code>/canned/", views_staff.canned, name="canned"),
    path("reference/<slug:code>/statistics/", views_staff.statistics, name="statistics"),
    path("reference/<slug:code>/wecom/", views_staff.wecom_callback, name="wecom"),
]
