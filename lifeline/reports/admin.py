from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.reports.models import ReportNarrative


@admin.register(ReportNarrative)
class ReportNarrativeAdmin(LibraryScopedAdmin):
    change_action = "reports.view"
    list_display = ["library", "start", "end", "language", "updated_at"]
