"""Volumes of the research services per period, for the library's service report (tables 1-3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from lifeline.core.models import Library
from lifeline.research.choices import AnalysisKind, IpKind, Status
from lifeline.research.models import (
    AnalysisReport,
    IpRecord,
    NoveltyRequest,
    VerificationRequest,
)


def service_counts(library: Library, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Reports issued, requests received, and each IP service, in [start, end)."""
    reqs = VerificationRequest.objects.filter(library=library)
    novelty = NoveltyRequest.objects.filter(library=library)
    analyses = AnalysisReport.objects.filter(library=library)
    ip = IpRecord.objects.filter(library=library, date__gte=start.date(), date__lt=end.date())
    ip_totals = {row["kind"]: row["n"] for row in ip.values("kind").annotate(n=Sum("count"))}
    return {
        "citation_requests": reqs.filter(created_at__gte=start, created_at__lt=end).count(),
        "citation_reports_issued": reqs.filter(
            status=Status.ISSUED, issued_at__gte=start, issued_at__lt=end
        ).count(),
        "novelty_requests": novelty.filter(created_at__gte=start, created_at__lt=end).count(),
        "novelty_reports_issued": novelty.filter(
            status=Status.ISSUED, issued_at__gte=start, issued_at__lt=end
        ).count(),
        "subject_analysis": analyses.filter(
            kind=AnalysisKind.SUBJECT, created_at__gte=start, created_at__lt=end
        ).count(),
        "research_output": analyses.filter(
            kind=AnalysisKind.OUTPUT, created_at__gte=start, created_at__lt=end
        ).count(),
        **{f"ip_{kind}": int(ip_totals.get(kind, 0)) for kind in IpKind.values},
    }


def reports_per_month(library: Library) -> list[dict[str, Any]]:
    """Issued citation reports per month (the seed's 5,426 in the epidemic period)."""
    rows = (
        VerificationRequest.objects.filter(library=library, status=Status.ISSUED)
        .annotate(month=TruncMonth("issued_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return [{"month": r["month"].date().isoformat()[:7], "n": r["n"]} for r in rows]
