"""API of the service report.

- `/api/reports/report/?library=<code>&start=<date>&end=<date>`: tables 1–3 with the year-earlier
  figures and the summary, for whoever may see the page (`reports.view`: leadership, admins).
- `/api/reports/consortium/?start=&end=`: every library's column and the sum, for holders of
  the consortium-level permission `reports.view_consortium`.
Dates default to this year so far; a period is at most five years (as on the page).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.reports import consortium, services
from lifeline.reports.forms import PeriodForm

# No viewsets: the report is one object per library and period, not a list.
router = SimpleRouter()
PERIOD = [
    OpenApiParameter("start", dt.date, required=False),
    OpenApiParameter("end", dt.date, required=False),
]


def _period(request: Request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    data = {
        "start": request.query_params.get("start") or today.replace(month=1, day=1).isoformat(),
        "end": request.query_params.get("end") or today.isoformat(),
    }
    form = PeriodForm(data)
    if not form.is_valid():
        raise ValidationError(form.errors.get_json_data())
    return form.cleaned_data["start"], form.cleaned_data["end"]


class ReportSerializer(serializers.Serializer):
    library = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    before_start = serializers.DateField()
    before_end = serializers.DateField()
    table1 = serializers.ListField(child=serializers.DictField())
    table2 = serializers.ListField(child=serializers.DictField())
    table3 = serializers.ListField(child=serializers.DictField())
    narrative = serializers.CharField()


class ReportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("library", str, required=True), *PERIOD],
        responses={200: ReportSerializer},
    )
    def get(self, request: Request) -> Response:
        library = Library.objects.filter(code=request.query_params.get("library", "")).first()
        if library is None:
            raise NotFound  # library codes are public (patron pages): 403 below is no leak
        if not user_can(request.user, library, "reports.view"):
            raise PermissionDenied
        start, end = _period(request)
        report = services.build(library, start, end)
        return Response(
            {
                "library": library.code,
                "start": report.start,
                "end": report.end,
                "before_start": report.before_start,
                "before_end": report.before_end,
                "table1": [
                    {"key": row.key, "title": row.title, "figures": _figures(row.figures)}
                    for row in report.table1
                ],
                "table2": [dataclasses.asdict(r) for r in report.table2],
                "table3": _figures(report.table3),
                "narrative": report.narrative,
            }
        )


def _figures(figures: list[services.Figure]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(f) for f in figures]


class ConsortiumSerializer(serializers.Serializer):
    libraries = serializers.ListField(child=serializers.CharField())
    start = serializers.DateField()
    end = serializers.DateField()
    rows = serializers.ListField(child=serializers.DictField())


class ConsortiumView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=PERIOD, responses={200: ConsortiumSerializer})
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("reports.view_consortium"):
            raise PermissionDenied
        start, end = _period(request)
        built = consortium.build(list(Library.objects.order_by("code")), start, end)
        return Response(
            {
                "libraries": [lib.code for lib in built.libraries],
                "start": start,
                "end": end,
                "rows": [
                    {
                        **dataclasses.asdict(r),
                        "values": dict(
                            zip([lib.code for lib in built.libraries], r.values, strict=True)
                        ),
                    }
                    for r in built.rows
                ],
            }
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("report/", ReportView.as_view(), name="api-reports-report"),
    path("consortium/", ConsortiumView.as_view(), name="api-reports-consortium"),
]
