"""Staff import/export pages, mounted under /staff/registry/ by lifeline/registry/urls.py."""

from django.urls import URLPattern, path

from lifeline.registry.io import views

urlpatterns: list[URLPattern] = [
    path("staff/registry/import/", views.import_page, name="io_import"),
    path("staff/registry/preview/<int:pk>/", views.preview_page, name="io_preview"),
    path("staff/registry/preview/<int:pk>/apply/", views.preview_confirm, name="io_apply"),
    path("staff/registry/kbart/", views.kbart_page, name="io_kbart"),
    path("staff/registry/export/", views.export_page, name="io_export"),
]
