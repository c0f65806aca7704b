from __future__ import annotations

from django.contrib import admin

from lifeline.core.admin import LIBRARY_FILTER, LibraryScopedAdmin, LibraryScopedInline
from lifeline.registry.models import AccessRoute, Category, KbartTitle, Resource, Vendor


@admin.register(Vendor)
class VendorAdmin(LibraryScopedAdmin):
    change_action = "registry.change"
    list_display = ["name", "key", "library", "contact_name", "phone", "email", "response_hours"]
    list_filter = [LIBRARY_FILTER]
    search_fields = ["name", "name_en", "key", "contact_name"]


@admin.register(Category)
class CategoryAdmin(LibraryScopedAdmin):
    change_action = "registry.change"
    list_display = ["name", "name_en", "language", "position", "library"]
    list_filter = ["language", LIBRARY_FILTER]
    search_fields = ["name", "name_en"]


class AccessRouteInline(LibraryScopedInline):
    model = AccessRoute
    change_action = "registry.change_routes"
    extra = 0
    fields = [
        ("kind", "label", "priority", "is_active"),
        "url",
        ("sp_login_url", "idp_entity_id", "target"),
        "ip_ranges",
        ("account_username", "account_password"),
        ("starts_on", "ends_on"),
        "instructions",
        "instructions_en",
    ]


@admin.register(Resource)
class ResourceAdmin(LibraryScopedAdmin):
    change_action = "registry.change"
    list_display = [
        "name",
        "key",
        "library",
        "language",
        "category",
        "vendor",
        "parent",
        "is_active",
    ]
    list_filter = [LIBRARY_FILTER, "language", "is_active", "is_trial", "off_campus_allowed"]
    search_fields = ["name", "name_en", "key"]
    list_select_related = ["library", "category", "vendor", "parent"]
    autocomplete_fields = ["parent", "vendor", "category"]
    inlines = [AccessRouteInline]


@admin.register(AccessRoute)
class AccessRouteAdmin(LibraryScopedAdmin):
    change_action = "registry.change_routes"
    list_display = ["resource", "kind", "label", "url", "starts_on", "ends_on", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["resource__name", "url", "label"]
    list_select_related = ["resource__library"]
    autocomplete_fields = ["resource"]


@admin.register(KbartTitle)
class KbartTitleAdmin(LibraryScopedAdmin):
    change_action = "registry.change"
    list_display = [
        "publication_title",
        "print_identifier",
        "online_identifier",
        "resource",
        "date_first_issue_online",
        "date_last_issue_online",
    ]
    search_fields = ["publication_title", "print_identifier", "online_identifier"]
    list_select_related = ["resource"]
    raw_id_fields = ["resource"]
