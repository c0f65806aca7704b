from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.delivery.models import DeliveryRequest, ImportJob, IsoMessage, Supplier


@admin.register(Supplier)
class SupplierAdmin(LibraryScopedAdmin):
    change_action = "delivery.change"
    list_display = ["name", "kind", "partner", "library", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(DeliveryRequest)
class DeliveryRequestAdmin(LibraryScopedAdmin):
    change_action = "delivery.change"
    list_display = ["id", "title", "status", "doc_type", "library", "created_at"]
    list_filter = ["status", "doc_type"]
    search_fields = ["title", "doi", "external_id"]
    # Status changes go through the workflow (request page), never a bare edit here.
    readonly_fields = [
        "status",
        "item_key",
        "closed_at",
        "turnaround_hours",
        "anonymised_at",
        "origin",
    ]
    raw_id_fields = ["patron", "assignee"]


@admin.register(IsoMessage)
class IsoMessageAdmin(LibraryScopedAdmin):
    change_action = "delivery.change"
    list_display = ["created_at", "direction", "kind", "status", "outcome", "library"]
    list_filter = ["direction", "outcome", "kind"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ImportJob)
class ImportJobAdmin(LibraryScopedAdmin):
    change_action = "delivery.change"
    list_display = ["created_at", "name", "status", "created", "updated", "library"]
    list_filter = ["status"]
    readonly_fields = ["status", "total", "checked", "created", "updated", "errors", "finished_at"]
