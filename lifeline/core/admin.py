from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from lifeline.core.audit import library_of
from lifeline.core.models import ApiToken, AuditLog, Library, Membership, Patron, ScheduledJob
from lifeline.core.permissions import library_ids_for, user_can


def foreign_relations(candidate: Any, names: list[str]) -> list[str]:
    """Those of `names` whose related record lies in another library than `candidate` itself."""
    own = library_of(candidate)
    if own is None:
        return []
    own_field = getattr(type(candidate), "library_lookup", "library").split("__")[0]
    bad = []
    for name in names:
        if name == own_field:
            continue
        related = getattr(candidate, name, None)
        if related is None:
            continue
        if hasattr(type(related), "library_lookup") or hasattr(related, "library_id"):
            other = library_of(related)
            if other is not None and other != own:
                bad.append(name)
    return bad


class LibraryScopedForm(forms.ModelForm):
    """Refuses a record whose vendor, category, parent ... lie in another library than its own."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        candidate = copy.copy(self.instance)
        relations = [
            f.name for f in candidate._meta.concrete_fields if f.is_relation and f.name in data
        ]
        for name in relations:
            setattr(candidate, name, data[name])
        for name in foreign_relations(candidate, relations):
            self.add_error(name, _("This belongs to another library."))
        return data


class LibraryScopedAdmin(admin.ModelAdmin):
    """Admin narrowed to the libraries where the staff user holds a role (superusers see all).

    `change_action` is the permission a role needs to change these records. A record of
    another library is a 404, as in the API; a viewer's change page is read-only.
    """

    change_action = "core.manage"
    library_field = "library"
    form = LibraryScopedForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).restrict(request.user)  # type: ignore[attr-defined]

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # Django redirects to the index with "doesn't exist"; a plain 404 says the same and is
        # what the API answers for another library's record.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and (
            request.user.is_superuser or bool(library_ids_for(request.user))
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def _can_change(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(library_ids_for(request.user, self.change_action))
        lib = library_of(obj)
        return lib is not None and user_can(request.user, lib, self.change_action)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._can_change(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # "Delete selected" checks the permission once, without an object: a user who may change
        # library A's records and only view C's must not delete C's by ticking them.
        allowed = queryset.restrict(request.user, self.change_action)  # type: ignore[attr-defined]
        if queryset.exclude(pk__in=allowed.values("pk")).exists():
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only offer the libraries (and their records) this user may change.
        related = db_field.related_model
        if not request.user.is_superuser:
            if hasattr(related.objects, "restrict"):
                kwargs["queryset"] = related.objects.restrict(request.user, self.change_action)
            elif related is get_user_model():
                kwargs["queryset"] = scoped_users(request.user, self.change_action)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def scoped_users(user: Any, action: str) -> QuerySet[Any]:
    """Accounts a library's admin may pick: people of their own libraries, or of none yet
    (a new colleague), never another library's staff or patrons."""
    ids = library_ids_for(user, action)
    mine = Q(memberships__library__in=ids) | Q(patron__library__in=ids)
    unattached = Q(memberships__isnull=True) & Q(patron__isnull=True)
    return get_user_model().objects.filter(mine | unattached).distinct()


class LibraryScopedInline(admin.StackedInline):
    """An inline whose rights follow the parent record's library (Django's own model
    permissions are not used: roles live in Membership)."""

    change_action = "core.manage"

    def _allowed(self, request: HttpRequest, obj: Any, action: str) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(library_ids_for(request.user, action))
        lib = library_of(obj)
        return lib is not None and user_can(request.user, lib, action)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, "view")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, self.change_action)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, self.change_action)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, self.change_action)


LIBRARY_FILTER = ("library", admin.RelatedOnlyFieldListFilter)


@admin.register(Library)
class LibraryAdmin(LibraryScopedAdmin):
    list_display = ["code", "name", "name_en", "email"]
    search_fields = ["code", "name", "name_en"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a library deletes its whole registry: the installation's superuser decides.
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(LibraryScopedAdmin):
    list_display = ["user", "library", "role", "is_active"]
    list_filter = ["role", "is_active", LIBRARY_FILTER]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "library"]
    raw_id_fields = ["user"]


@admin.register(Patron)
class PatronAdmin(LibraryScopedAdmin):
    list_display = ["__str__", "library", "category", "eppn", "created_at"]
    list_filter = ["category", LIBRARY_FILTER]
    search_fields = ["display_name", "eppn", "user__username"]
    list_select_related = ["user", "library"]
    raw_id_fields = ["user"]
    change_action = "delivery.change"


@admin.register(AuditLog)
class AuditLogAdmin(LibraryScopedAdmin):
    list_display = ["at", "actor", "action", "model", "object_repr", "library"]
    list_filter = ["action", "model", LIBRARY_FILTER]
    search_fields = ["object_repr", "actor", "message"]
    list_select_related = ["library"]
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Each staff member sees and revokes their own tokens; tokens are created through the API."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    fields = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    # The owner is fixed: a token handed to another account would let its holder act as them.
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token.revoke()


admin.site.register(ScheduledJob)
