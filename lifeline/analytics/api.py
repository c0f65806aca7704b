"""API routes of the Usage analytics app (the shared router in lifeline/api_urls.py).

Read-only: imports go through the pages (uploads) and the scheduler (SUSHI); other systems
read reports, the harvest log and use per resource.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.analytics.models import SushiHarvest, TitleHolding, UsageReport, UsageSource
from lifeline.analytics.services import denials_between, usage_between
from lifeline.core.api_base import LibraryRolePermission, LibraryScopedReadOnlyViewSet, QueryFilter
from lifeline.core.models import Library
from lifeline.core.permissions import user_can

LIBRARY_FILTER = QueryFilter("library_id", "int", _("Library id."))


class UsageReportSerializer(serializers.ModelSerializer):
    # The warnings worded in the request's language (`warnings` keeps codes and parameters).
    warning_messages = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = UsageReport
        fields = [
            "id",
            "library",
            "report_id",
            "release",
            "source_kind",
            "filename",
            "file_format",
            "begin",
            "end",
            "platforms",
            "totals",
            "tdm_totals",
            "exceptions",
            "warnings",
            "warning_messages",
            "row_count",
            "replaced_rows",
            "imported_at",
        ]


class SushiHarvestSerializer(serializers.ModelSerializer):
    credential_name = serializers.CharField(source="credential.name", read_only=True)
    warning_messages = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = SushiHarvest
        fields = [
            "id",
            "credential",
            "credential_name",
            "report_code",
            "begin",
            "end",
            "status",
            "exception_codes",
            "exceptions",
            "warnings",
            "warning_messages",
            "message",
            "http_status",
            "report",
            "attempts",
            "retry_at",
            "started_at",
            "finished_at",
        ]


class UsageSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageSource
        fields = ["id", "library", "platform", "database", "resource", "mapped_by_hand"]


class TitleHoldingSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="item.title", read_only=True)
    online_issn = serializers.CharField(source="item.online_issn", read_only=True)
    print_issn = serializers.CharField(source="item.print_issn", read_only=True)
    isbn = serializers.CharField(source="item.isbn", read_only=True)

    class Meta:
        model = TitleHolding
        fields = [
            "id",
            "item",
            "title",
            "online_issn",
            "print_issn",
            "isbn",
            "resource",
            "kbart_title",
            "identifier",
        ]


class UsageReportViewSet(LibraryScopedReadOnlyViewSet):
    """Imported COUNTER reports with their totals per metric type."""

    queryset = UsageReport.objects.all()
    serializer_class = UsageReportSerializer
    change_action = "analytics.change"
    ordering_fields = ["imported_at", "begin", "report_id"]
    ordering = ["-imported_at", "-pk"]
    query_filters = {
        "library": LIBRARY_FILTER,
        "report_id": QueryFilter("report_id", "str", _("COUNTER report ID.")),
    }


class SushiHarvestViewSet(LibraryScopedReadOnlyViewSet):
    """The SUSHI harvest log (raw responses are not exposed)."""

    queryset = SushiHarvest.objects.select_related("credential").defer("raw")
    serializer_class = SushiHarvestSerializer
    change_action = "analytics.change"
    ordering_fields = ["started_at", "status"]
    ordering = ["-started_at", "-pk"]
    query_filters = {
        "library": QueryFilter("credential__library_id", "int", _("Library id.")),
        "status": QueryFilter("status", "str", _("Harvest status.")),
    }


class UsageSourceViewSet(LibraryScopedReadOnlyViewSet):
    """COUNTER platforms and databases and the resources they count towards."""

    queryset = UsageSource.objects.all()
    serializer_class = UsageSourceSerializer
    change_action = "analytics.change"
    ordering_fields = ["platform", "database"]
    ordering = ["platform", "database", "pk"]
    query_filters = {"library": LIBRARY_FILTER}


class TitleHoldingViewSet(LibraryScopedReadOnlyViewSet):
    """COUNTER titles matched to resources through their KBART lists (by ISSN or ISBN)."""

    queryset = TitleHolding.objects.select_related("item")
    serializer_class = TitleHoldingSerializer
    change_action = "analytics.change"
    ordering_fields = ["identifier", "resource"]
    ordering = ["resource", "identifier", "pk"]
    query_filters = {
        "library": QueryFilter("resource__library_id", "int", _("Library id.")),
        "resource": QueryFilter("resource_id", "int", _("Resource id.")),
    }


class UsageViewSet(viewsets.ViewSet):
    """Use and turnaways per resource of one library between two dates."""

    permission_classes = [LibraryRolePermission]

    @extend_schema(
        parameters=[
            OpenApiParameter("library", int, required=True),
            OpenApiParameter("start", dt.date, required=True),
            OpenApiParameter("end", dt.date, required=True),
        ],
        responses={200: dict},
    )
    def list(self, request: Request) -> Response:
        try:
            library_id = int(request.query_params["library"])
            start = dt.date.fromisoformat(request.query_params["start"])
            end = dt.date.fromisoformat(request.query_params["end"])
        except (KeyError, ValueError) as exc:
            raise exceptions.ValidationError(
                {"detail": str(_("library (id), start and end (yyyy-mm-dd) are required."))}
            ) from exc
        library = get_object_or_404(Library, pk=library_id)
        if not user_can(request.user, library):
            raise exceptions.NotFound
        uses, denials = usage_between(library, start, end), denials_between(library, start, end)
        rows: list[dict[str, Any]] = [
            {"resource": rid, "uses": uses.get(rid, 0), "denials": denials.get(rid, 0)}
            for rid in sorted(set(uses) | set(denials))
        ]
        return Response({"library": library.pk, "start": start, "end": end, "results": rows})


router = SimpleRouter()
router.register("reports", UsageReportViewSet, basename="analytics-report")
router.register("harvests", SushiHarvestViewSet, basename="analytics-harvest")
router.register("sources", UsageSourceViewSet, basename="analytics-source")
router.register("holdings", TitleHoldingViewSet, basename="analytics-holding")
router.register("usage", UsageViewSet, basename="analytics-usage")
