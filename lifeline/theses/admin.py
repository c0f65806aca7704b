from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.theses.models import ExpectedStudent, Receipt, Rules, Thesis


@admin.register(Rules)
class RulesAdmin(LibraryScopedAdmin):
    change_action = "theses.manage"
    list_display = ["library", "min_pages", "max_pages", "max_bytes"]


@admin.register(ExpectedStudent)
class ExpectedStudentAdmin(LibraryScopedAdmin):
    change_action = "theses.manage"
    list_display = ["student_number", "name", "college", "degree_level", "year", "library"]
    list_filter = ["degree_level", "degree_type", "year"]
    search_fields = ["student_number", "name"]
    raw_id_fields = ["user"]


@admin.register(Thesis)
class ThesisAdmin(LibraryScopedAdmin):
    change_action = "theses.manage"
    list_display = ["title", "author", "college", "status", "library", "submitted_at"]
    list_filter = ["status", "degree_level", "confidentiality"]
    search_fields = ["title", "author", "student_number"]
    # Status changes go through the review page (a StateChange row each), never a bare edit here.
    readonly_fields = ["status", "approved_at", "deposited_at", "deposited_full_text"]
    raw_id_fields = ["student", "user"]


@admin.register(Receipt)
class ReceiptAdmin(LibraryScopedAdmin):
    change_action = "theses.manage"
    list_display = ["serial", "thesis", "issued_at", "revoked_at"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # signed content: revoke on the thesis page, never edit
