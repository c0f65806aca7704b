from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.choices import NotificationStatus
from lifeline.core.models import ApiToken, AuditLog, Library, Membership, Notification, Patron, ScheduledJob
from lifeline.core.permissions import library_ids_for, user_can


class LibraryScopedAdmin(admin.ModelAdmin):
    """Admin narrowed to the libraries where the staff user holds a role (superusers see all).

    `change_action` is the permission a role needs to change these records.
    """

    change_action = "core.manage"
    library_field = "library"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).restrict(request.user)  # type: ignore[attr-defined]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and (request.user.is_superuser or bool(library_ids_for(request.user)))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def _can_change(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(library_ids_for(request.user, self.change_action))
        from lifeline.core.audit import library_of

        lib = library_of(obj)
        return lib is not None and user_can(request.user, lib, self.change_action)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._can_change(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only offer the libraries (and their records) this user may change.
        related = db_field.related_model
        if hasattr(related.objects, "restrict") and not request.user.is_superuser:
            kwargs["queryset"] = related.objects.restrict(request.user, self.change_action)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Library)
class LibraryAdmin(LibraryScopedAdmin):
    list_display = ["code", "name", "name_en", "email"]
    search_fields = ["code", "name", "name_en"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(LibraryScopedAdmin):
    list_display = ["user", "library", "role", "is_active"]
    list_filter = ["role", "is_active", "library"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(Patron)
class PatronAdmin(LibraryScopedAdmin):
    list_display = ["__str__", "library", "category", "eppn", "created_at"]
    list_filter = ["category", "library"]
    search_fields = ["display_name", "eppn", "user__username"]
    change_action = "delivery.change"


@admin.register(AuditLog)
class AuditLogAdmin(LibraryScopedAdmin):
    list_display = ["at", "actor", "action", "model", "object_repr", "library"]
    list_filter = ["action", "model", "library"]
    search_fields = ["object_repr", "actor", "message"]
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    has_view_permission = has_change_permission = has_delete_permission = lambda self, request, obj=None: (  # type: ignore[assignment]  # noqa: E731
        request.user.is_active and request.user.is_staff
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token.revoke()


admin.site.register(ScheduledJob)


@admin.register(Notification)
class NotificationAdmin(LibraryScopedAdmin):
    list_display = ["created_at", "channel", "kind", "subject", "status", "attempts", "sent_at", "library"]
    list_filter = ["channel", "status", "kind"]
    search_fields = ["subject", "body", "url"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    @admin.action(description=_("Retry now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        from lifeline.core.notify import deliver

        queryset.exclude(status=NotificationStatus.SENT).update(
            status=NotificationStatus.PENDING, next_attempt_at=timezone.now()
        )
        for pk in queryset.values_list("pk", flat=True):
            deliver(pk)
