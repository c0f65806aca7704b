"""The staff dashboard panel: the service report of the latest emergency event and of last month,
one click away for those who may see it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import urlencode

from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.emergency.counts import event_spans
from lifeline.reports.sending import leadership_emails, previous_month


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    if not user_can(request.user, library, "reports.view"):
        return None
    spans = event_spans(library)[:3]
    start, end = previous_month(timezone.localdate())
    return {
        "template": "reports/panel.html",
        "library": library,
        "spans": spans,
        "month": urlencode({"start": start.isoformat(), "end": end.isoformat()}),
        "month_start": start,
        "recipients": len(leadership_emails(library)),
        "consortium": request.user.has_perm("reports.view_consortium"),
    }
