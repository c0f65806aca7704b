from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.outreach.models import (
    Contest,
    Conversation,
    Course,
    CourseMaterial,
    Event,
    HumanBook,
    Lesson,
    QuestionBank,
    Quiz,
    Room,
    RoomBlock,
    Series,
)

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


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 1


class MaterialInline(admin.TabularInline):
    model = CourseMaterial
    fields = ["kind", "title", "url"]  # files through the course page, where they are sniffed
    extra = 0


@admin.register(Course)
class CourseAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "audience", "term", "library"]
    inlines = [LessonInline, MaterialInline]


@admin.register(Contest)
class ContestAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "entries_open", "voting_close", "max_mb", "library"]


class ConversationInline(admin.TabularInline):
    model = Conversation
    fields = ["starts_at", "ends_at", "online", "place"]
    extra = 2


@admin.register(HumanBook)
class HumanBookAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["title", "name", "is_active", "library"]
    inlines = [ConversationInline]


@admin.register(Room)
class RoomAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["name", "slot_minutes", "max_per_week", "is_active", "library"]


@admin.register(RoomBlock)
class RoomBlockAdmin(LibraryScopedAdmin):
    change_action = CHANGE
    list_display = ["room", "starts_at", "ends_at", "reason"]
    library_field = "room__library"
