from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.delivery.models import (
    AgencyId,
    DeliveryRequest,
    IllTransaction,
    IsoMessage,
    Peer,
    Supplier,
)


@admin.register(Supplier)
class SupplierAdmin(LibraryScopedAdmin):
    change_action = "delivery.change"
    list_display = ["name", "kind", "partner", "peer", "rota", "library", "is_active"]
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


@admin.register(AgencyId)
class AgencyIdAdmin(LibraryScopedAdmin):
    change_action = "delivery.peers"
    list_display = ["library", "agency_id_type", "agency_id_value"]


@admin.register(Peer)
class PeerAdmin(LibraryScopedAdmin):
    """Peers and their secrets: library administrators (`delivery.peers`). Letting the fetcher
    reach an internal address (`allow_internal`) is for superusers only."""

    change_action = "delivery.peers"
    list_display = [
        "name",
        "agency_id_type",
        "agency_id_value",
        "endpoint_url",
        "health",
        "library",
    ]
    list_filter = ["health", "is_active", "copy", "loan"]
    search_fields = ["name", "agency_id_value"]
    readonly_fields = ["health", "health_changed_at", "last_error"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("allow_internal")
        return fields


@admin.register(IllTransaction)
class IllTransactionAdmin(LibraryScopedAdmin):
    change_action = "delivery.change"
    list_display = ["requesting_id", "role", "service_type", "iso_status", "peer", "library"]
    list_filter = ["role", "iso_status", "service_type"]
    search_fields = ["requesting_id", "supplying_id"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
