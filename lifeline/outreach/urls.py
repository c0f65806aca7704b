from django.urls import URLPattern, URLResolver, path

from lifeline.outreach import views

app_name = "outreach"
urlpatterns: list[URLPattern | URLResolver] = [
    path("e/<int:pk>/", views.event_detail, name="event"),
    path("s/<int:pk>/register/", views.register, name="register"),
    path("r/<int:pk>/cancel/", views.cancel_registration, name="cancel"),
    path("r/<int:pk>/feedback/", views.feedback, name="feedback"),
    path("checkin/<str:token>/", views.checkin, name="checkin"),
    path("q/<int:pk>/", views.quiz_detail, name="quiz"),
    path("q/<int:pk>/start/", views.quiz_start, name="quiz_start"),
    path("a/<int:pk>/", views.attempt_view, name="attempt"),
    path("a/<int:pk>/certificate.pdf", views.attempt_certificate, name="certificate"),
    path("c/<int:pk>/certificate.pdf", views.course_certificate, name="course_certificate"),
    path("room/<int:pk>/", views.room_detail, name="room"),
    path("room/<int:pk>/book/", views.room_book, name="book"),
    path("b/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("<slug:library>/", views.index, name="index"),
    path("<slug:library>/calendar.ics", views.calendar_feed, name="calendar"),
    path("<slug:library>/mine/", views.mine, name="mine"),
    path("<slug:library>/import/", views.import_questions, name="import"),
    path("<slug:library>/report/", views.report_view, name="report"),
]
