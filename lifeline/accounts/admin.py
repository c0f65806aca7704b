from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lifeline.accounts.models import SamlIdentityProvider, SamlLoginEvent
from lifeline.core.admin import LIBRARY_FILTER, LibraryScopedAdmin


@admin.register(SamlIdentityProvider)
class SamlIdentityProviderAdmin(LibraryScopedAdmin):
    change_action = "core.manage"
    list_display = ["name", "entity_id", "library", "is_home", "is_active", "updated_at"]
    list_filter = ["is_home", "is_active", LIBRARY_FILTER]
    search_fields = ["name", "name_en", "entity_id", "scopes"]


@admin.register(SamlLoginEvent)
class SamlLoginEventAdmin(LibraryScopedAdmin):
    """Read-only: the record of who signed in through CARSI and why anyone was refused."""

    list_display = ["at", "outcome", "idp_entity_id", "subject", "reason", "remote_addr", "library"]
    list_filter = ["outcome", LIBRARY_FILTER]
    search_fields = ["subject", "idp_entity_id", "reason"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
