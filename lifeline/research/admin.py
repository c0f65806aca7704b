from django.contrib import admin

from lifeline.core.admin import LibraryScopedAdmin
from lifeline.research.models import (
    AffiliationVariant,
    BiblioRecord,
    IpRecord,
    JournalEntry,
    ReportSettings,
)


@admin.register(BiblioRecord)
class BiblioRecordAdmin(LibraryScopedAdmin):
    change_action = "research.change"
    list_display = ["title", "year", "journal", "doi", "library"]
    search_fields = ["title", "doi", "wos_ut", "scopus_eid"]


@admin.register(AffiliationVariant)
class AffiliationVariantAdmin(LibraryScopedAdmin):
    change_action = "research.change"
    list_display = ["variant", "canonical", "library"]


@admin.register(JournalEntry)
class JournalEntryAdmin(LibraryScopedAdmin):
    change_action = "research.change"
    list_display = ["title", "issn", "kind", "year", "quartile", "impact_factor"]
    list_filter = ["kind", "year"]


@admin.register(IpRecord)
class IpRecordAdmin(LibraryScopedAdmin):
    change_action = "research.change"
    list_display = ["kind", "date", "count", "person", "library"]
    list_filter = ["kind"]


@admin.register(ReportSettings)
class ReportSettingsAdmin(LibraryScopedAdmin):
    change_action = "research.change"
    list_display = ["library", "seal"]
