from __future__ import annotations

from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.emergency.models import Event, EventTask, Plan


@admin.register(Plan)
class PlanAdmin(LibraryScopedAdmin):
    change_action = "emergency.change"
    list_display = ("name", "library", "current_version", "is_default", "updated_at")
    list_filter = ("library",)
    readonly_fields = ("current_version", "is_default")


class EventTaskInline(admin.TabularInline):
    model = EventTask
    fields = ("team_name", "title", "due_at", "status", "assignee_name", "done_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Event)
class EventAdmin(LibraryScopedAdmin):
    change_action = "emergency.declare"
    list_display = ("__str__", "library", "is_drill", "status", "declared_at", "closed_at")
    list_filter = ("library", "status", "is_drill", "category")
    readonly_fields = ("plan", "version", "declared_by", "closed_by")
    inlines = [EventTaskInline]
