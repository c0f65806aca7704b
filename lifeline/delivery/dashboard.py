"""The staff dashboard panel: the queue at a glance, the 24 h target, this month's fill rate."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.delivery.choices import OPEN_STATUSES, Status
from lifeline.delivery.logic.stats import summary
from lifeline.delivery.models import DeliveryRequest


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    now = timezone.now()
    counts = DeliveryRequest.objects.filter(library=library, status__in=OPEN_STATUSES).aggregate(
        open=Count("id"),
        new=Count("id", filter=Q(status=Status.SUBMITTED)),
        overdue=Count("id", filter=Q(due_at__lt=now)),
    )
    today = timezone.localdate()
    month = summary(library, today.replace(day=1), today)
    return {"template": "delivery/panel.html", "library": library, "counts": counts, "month": month}
