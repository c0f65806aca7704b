from django.urls import URLPattern, URLResolver, path

from lifeline.emergency import views

app_name = "emergency"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("<slug:library>/", views.home, name="home"),
    path("<slug:library>/services/", views.services_page, name="services"),
    path("<slug:library>/plans/new/", views.plan_edit, name="plan_new"),
    path(
        "<slug:library>/plans/install-default/",
        views.plan_install_default,
        name="plan_install_default",
    ),
    path("<slug:library>/plans/<int:pk>/", views.plan_detail, name="plan"),
    path("<slug:library>/plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("<slug:library>/plans/<int:pk>/contacts/", views.plan_contacts, name="plan_contacts"),
    path("<slug:library>/plans/<int:pk>/plan.yaml", views.plan_yaml, name="plan_yaml"),
    path("<slug:library>/plans/<int:pk>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path("<slug:library>/declare/", views.declare, name="declare"),
    path("<slug:library>/events/<int:pk>/", views.event_board, name="event"),
    path("<slug:library>/events/<int:pk>/tasks/<int:task_pk>/", views.task_action, name="task"),
    path("<slug:library>/events/<int:pk>/level/", views.event_level, name="level"),
    path("<slug:library>/events/<int:pk>/stand-down/", views.event_stand_down, name="stand_down"),
    path("<slug:library>/events/<int:pk>/review/", views.event_review, name="review"),
    path(
        "<slug:library>/events/<int:pk>/review.pdf",
        views.event_review,
        {"fmt": "pdf"},
        name="review_pdf",
    ),
    path(
        "<slug:library>/events/<int:pk>/review.xlsx",
        views.event_review,
        {"fmt": "xlsx"},
        name="review_xlsx",
    ),
]
