from django.urls import URLPattern, URLResolver, path

from lifeline.knowledge import views

app_name = "knowledge"
urlpatterns: list[URLPattern | URLResolver] = [
    path("lib/<slug:library>/help/", views.help_index, name="help"),
    path("lib/<slug:library>/help/<int:pk>/", views.article, name="article"),
    path("lib/<slug:library>/help/<int:pk>/feedback/", views.feedback, name="feedback"),
    path("knowledge/<slug:library>/", views.staff_list, name="staff_list"),
    path("knowledge/<slug:library>/new/", views.edit, name="new"),
    path("knowledge/<slug:library>/<int:pk>/edit/", views.edit, name="edit"),
    path("knowledge/<slug:library>/<int:pk>/history/", views.history, name="history"),
    path("knowledge/<slug:library>/<int:pk>/restore/", views.restore, name="restore"),
]
