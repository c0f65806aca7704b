"""The staff dashboard panel: the desk's queue at a glance and this month's first-answer time."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.reference.choices import OPEN_STATES, TicketState
from lifeline.reference.logic.stats import report
from lifeline.reference.models import Ticket


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    now = timezone.now()
    counts = (
        Ticket.objects.in_queue_of(library)
        .filter(state__in=OPEN_STATES)
        .aggregate(
            open=Count("id"),
            new=Count("id", filter=Q(state=TicketState.NEW)),
            overdue=Count(
                "id", filter=Q(first_response_at__isnull=True, first_response_due__lt=now)
            ),
        )
    )
    today = timezone.localdate()
    month = report(library, today.replace(day=1), today)
    return {
        "template": "reference/panel.html",
        "library": library,
        "counts": counts,
        "month": month,
    }
