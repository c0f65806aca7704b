from __future__ import annotations

from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.push.models import Announcement, PushRun, Robot, StateChange


class StateChangeInline(admin.TabularInline):
    model = StateChange
    fields = ("at", "old", "new", "by", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Announcement)
class AnnouncementAdmin(LibraryScopedAdmin):
    change_action = "push.publish"
    list_display = ("title", "library", "topic", "state", "published_at", "expires_at")
    list_filter = ("library", "topic", "state")
    readonly_fields = ("state", "published_at", "emergency_event_id", "emergency_task_id", "views")
    inlines = [StateChangeInline]


@admin.register(Robot)
class RobotAdmin(LibraryScopedAdmin):
    change_action = "push.publish"
    list_display = ("name", "library", "fmt", "is_active")
    list_filter = ("library", "fmt")


@admin.register(PushRun)
class PushRunAdmin(LibraryScopedAdmin):
    change_action = "push.publish"
    list_display = ("announcement", "status", "total", "written", "restarts", "finished_at")
    readonly_fields = ("announcement", "status", "total", "written", "cursor", "heartbeat_at",
                       "started_at", "finished_at", "restarts")  # fmt: skip
