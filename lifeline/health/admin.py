from __future__ import annotations

from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.health.models import (
    Escalation,
    FaultReport,
    Incident,
    IncidentEvent,
    ProbeConfig,
    Subscription,
)


class EventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    fields = ["at", "kind", "text", "public", "user"]
    readonly_fields = ["user"]


@admin.register(Incident)
class IncidentAdmin(LibraryScopedAdmin):
    change_action = "health.change"
    list_display = ["pk", "resource", "route", "kind", "status", "opened_at", "closed_at"]
    list_filter = ["status", "kind", "library"]
    search_fields = ["resource__name", "cause"]
    raw_id_fields = ["resource", "route"]
    inlines = [EventInline]


@admin.register(ProbeConfig)
class ProbeConfigAdmin(LibraryScopedAdmin):
    change_action = "health.change"
    list_display = [
        "route",
        "enabled",
        "state",
        "interval_seconds",
        "last_checked_at",
        "last_failure",
    ]
    list_filter = ["state", "enabled"]
    raw_id_fields = ["route"]
    readonly_fields = [
        "allow_private",
        "state",
        "state_since",
        "last_checked_at",
        "last_failure",
        "last_error",
        "cert_expires_at",
        "next_probe_at",
        "lease_until",
        "lease_owner",
        "pending_state",
        "pending_count",
    ]


@admin.register(FaultReport)
class FaultReportAdmin(LibraryScopedAdmin):
    change_action = "health.change"
    list_display = ["resource", "created_at", "contact_email", "address", "incident"]
    raw_id_fields = ["incident", "resource", "route"]


@admin.register(Escalation)
class EscalationAdmin(LibraryScopedAdmin):
    change_action = "health.change"
    list_display = ["vendor", "incident", "sent_at", "due_at", "acknowledged_at", "resolved_at"]
    raw_id_fields = ["incident"]


@admin.register(Subscription)
class SubscriptionAdmin(LibraryScopedAdmin):
    change_action = "health.change"
    list_display = [
        "name",
        "library",
        "channel",
        "email",
        "url",
        "webhook_format",
        "language",
        "is_active",
    ]
