from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lifeline.analytics.models import SushiCredential, SushiHarvest, UsageReport, UsageSource
from lifeline.core.admin import LibraryScopedAdmin
from lifeline.core.permissions import user_can


@admin.register(UsageSource)
class UsageSourceAdmin(LibraryScopedAdmin):
    change_action = "analytics.change"
    list_display = ["platform", "database", "resource", "mapped_by_hand"]
    list_filter = ["mapped_by_hand"]
    search_fields = ["platform", "database"]
    raw_id_fields = ["resource"]


@admin.register(UsageReport)
class UsageReportAdmin(LibraryScopedAdmin):
    change_action = "analytics.change"
    list_display = [
        "report_id",
        "release",
        "begin",
        "end",
        "source_kind",
        "row_count",
        "imported_at",
    ]
    list_filter = ["report_id", "source_kind"]
    readonly_fields = [f.name for f in UsageReport._meta.fields]


@admin.register(SushiCredential)
class SushiCredentialAdmin(LibraryScopedAdmin):
    change_action = "analytics.change"
    list_display = ["name", "base_url", "release", "reports", "is_active"]
    exclude = ["api_key"]  # set through the analytics page, never shown back

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Reaching internal addresses is a library administrator's decision (as for probes).
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None or not user_can(request.user, obj.library_id, "core.manage"):
            fields.append("allow_internal")
        return fields


@admin.register(SushiHarvest)
class SushiHarvestAdmin(LibraryScopedAdmin):
    change_action = "analytics.change"
    library_field = "credential__library"
    list_display = ["credential", "report_code", "begin", "end", "status", "attempts", "retry_at"]
    list_filter = ["status", "report_code"]
    exclude = ["raw"]
    readonly_fields = [
        "credential",
        "report_code",
        "begin",
        "end",
        "status",
        "exception_codes",
        "message",
        "http_status",
        "report",
    ]
