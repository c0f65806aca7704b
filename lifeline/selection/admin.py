from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.selection.models import Campaign, Catalogue, HomeDelivery, Recommendation


@admin.register(Catalogue)
class CatalogueAdmin(LibraryScopedAdmin):
    change_action = "selection.manage"
    list_display = ["name", "vendor", "source_format", "lines", "library", "created_at"]
    readonly_fields = ["source_format", "flavour", "file_name", "lines"]


@admin.register(Campaign)
class CampaignAdmin(LibraryScopedAdmin):
    change_action = "selection.manage"
    list_display = ["name", "starts_on", "ends_on", "status", "budget", "library"]
    list_filter = ["status"]
    # Opening and closing go through the campaign page (the workflow), never a bare edit.
    readonly_fields = ["status", "order", "closed_at"]


@admin.register(Recommendation)
class RecommendationAdmin(LibraryScopedAdmin):
    change_action = "selection.manage"
    list_display = ["title", "isbn", "status", "library", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "matched_title", "holding", "closed_at"]
    raw_id_fields = ["user"]


@admin.register(HomeDelivery)
class HomeDeliveryAdmin(LibraryScopedAdmin):
    change_action = "selection.deliver"
    list_display = ["title", "status", "tracking_no", "library", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "shipped_at", "received_at", "closed_at", "address_erased_at"]
    raw_id_fields = ["user", "holding"]
