from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lifeline.accounts.models import (
    Federation,
    FederationEntity,
    LibrarySignIn,
    SamlIdentityProvider,
    SamlLoginEvent,
)
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


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """A federation serves every library: only superusers see or change it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(Federation)
class FederationAdmin(SuperuserOnlyAdmin):
    list_display = ["name", "metadata_url", "valid_until", "loaded_at", "failures"]
    readonly_fields = ["valid_until", "loaded_at", "last_attempt_at", "failures", "last_error"]


@admin.register(FederationEntity)
class FederationEntityAdmin(SuperuserOnlyAdmin):
    list_display = ["name", "entity_id", "scopes", "federation"]
    search_fields = ["name", "name_en", "entity_id", "scopes"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LibrarySignIn)
class LibrarySignInAdmin(LibraryScopedAdmin):
    change_action = "core.manage"
    list_display = ["library", "force_authn"]
