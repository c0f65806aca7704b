from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.knowledge.models import Article, ArticleVersion, Deflection

CHANGE = "knowledge.change"


@admin.register(Article)
class ArticleAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = [
        "title",
        "language",
        "audience",
        "version",
        "is_published",
        "expires_at",
        "library",
    ]
    list_filter = ["language", "audience", "is_published"]
    search_fields = ["title"]
    # Saves go through the pages and the API (services.update_article) so that every change
    # leaves a version row and a sanitised body; here articles are read and removed.
    readonly_fields = [
        "library",
        "language",
        "audience",
        "title",
        "body",
        "tags",
        "expires_at",
        "is_published",
        "resource",
        "version",
        "created_by",
    ]


@admin.register(ArticleVersion)
class ArticleVersionAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["article", "number", "created_at", "created_by"]
    readonly_fields = [
        "article",
        "number",
        "title",
        "body",
        "tags",
        "language",
        "audience",
        "expires_at",
        "is_published",
        "note",
        "created_by",
    ]


@admin.register(Deflection)
class DeflectionAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["library", "kind", "object_id", "solved", "channel", "created_at"]
    list_filter = ["solved", "kind", "channel"]
    readonly_fields = ["library", "kind", "object_id", "solved", "channel", "created_at"]
