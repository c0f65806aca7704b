from django.urls import URLPattern, URLResolver, path

from lifeline.outreach import views, views_people, views_staff

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
    path("a/answer/", views.answer, name="answer"),
    path("a/<int:pk>/certificate.pdf", views.attempt_certificate, name="certificate"),
    path("c/<int:pk>/certificate.pdf", views.course_certificate, name="course_certificate"),
    path("room/<int:pk>/", views.room_detail, name="room"),
    path("room/<int:pk>/book/", views.room_book, name="book"),
    path("b/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("contest/<int:pk>/", views_people.contest_detail, name="contest"),
    path("contest/<int:pk>/enter/", views_people.contest_enter, name="contest_enter"),
    path("entry/<int:pk>/media", views_people.entry_media, name="entry_media"),
    path("entry/<int:pk>/vote/", views_people.entry_vote, name="vote"),
    path("hb/<int:pk>/", views_people.human_book, name="human_book"),
    path("conv/<int:pk>/book/", views_people.conversation_book, name="conv_book"),
    path("conv/<int:pk>/cancel/", views_people.conversation_cancel, name="conv_cancel"),
    path("course/<int:pk>/", views_people.course_detail, name="course"),
    path("material/<int:pk>/", views_people.material, name="material"),
    path("<slug:library>/", views.index, name="index"),
    path("<slug:library>/humans/", views_people.humans, name="humans"),
    path("<slug:library>/staff/", views_staff.staff_home, name="staff"),
    path(
        "<slug:library>/contest/<int:pk>/judge/",
        views_staff.contest_judge,
        name="contest_judge",
    ),
    path(
        "<slug:library>/course/<int:pk>/manage/",
        views_staff.course_manage,
        name="course_manage",
    ),
    path("<slug:library>/room/<int:pk>/desk/", views_staff.room_desk, name="room_desk"),
    path("<slug:library>/report.xlsx", views_staff.report_xlsx, name="report_xlsx"),
    path("<slug:library>/calendar.ics", views.calendar_feed, name="calendar"),
    path("<slug:library>/mine/", views.mine, name="mine"),
    path("<slug:library>/import/", views.import_questions, name="import"),
    path("<slug:library>/report/", views.report_view, name="report"),
]
