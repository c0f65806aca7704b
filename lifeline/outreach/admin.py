from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.outreach.models import Course, Event, QuestionBank, Quiz, Room, Series

CHANGE = "outreach.change"


@admin.register(Series)
class SeriesAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "library"]


@admin.register(Event)
class EventAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "kind", "series", "online", "library"]
    list_filter = ["kind", "online"]


@admin.register(QuestionBank)
class QuestionBankAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["name", "library"]


@admin.register(Quiz)
class QuizAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "opens_at", "closes_at", "attempts", "library"]


@admin.register(Course)
class CourseAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "audience", "term", "library"]


@admin.register(Room)
class RoomAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["name", "slot_minutes", "max_per_week", "is_active", "library"]
