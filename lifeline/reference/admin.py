from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.reference.models import CannedAnswer, DeskSettings, Tag, Ticket

ANSWER = "reference.answer"


@admin.register(DeskSettings)
class DeskSettingsAdmin(LibraryScopedAdmin):
    change_action = "reference.manage"
    list_display = ["library", "first_response_minutes", "opens", "closes", "mail_address"]


@admin.register(Ticket)
class TicketAdmin(LibraryScopedAdmin):
    change_action = ANSWER
    list_display = [
        "pk",
        "subject",
        "channel",
        "state",
        "library",
        "handling_library",
        "created_at",
    ]
    list_filter = ["channel", "state"]
    search_fields = ["subject", "contact_name", "contact_email"]
    raw_id_fields = ["patron", "assignee"]
    readonly_fields = ["token", "handling_library"]


@admin.register(CannedAnswer)
class CannedAnswerAdmin(LibraryScopedAdmin):
    change_action = ANSWER
    list_display = ["title", "shortcut", "library"]


@admin.register(Tag)
class TagAdmin(LibraryScopedAdmin):
    change_action = ANSWER
    list_display = ["name", "library"]
