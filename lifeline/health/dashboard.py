"""The Access health panel on the staff dashboard: incidents, routes in trouble, vendors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.health.choices import HealthState, IncidentStatus
from lifeline.health.models import Escalation, Incident, ProbeConfig
from lifeline.health.services import vendor_response_stats


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    if not user_can(request.user, library):
        return None
    now = timezone.now()
    vendors = vendor_response_stats(library, since=now - dt.timedelta(days=180))
    states = dict(
        (row["state"], row["n"])
        for row in ProbeConfig.objects.filter(route__resource__library=library, enabled=True)
        .values("state")
        .annotate(n=Count("pk"))
    )
    charted = [v for v in vendors if v["mean_ack_hours"] is not None]
    chart = (
        bar_chart(
            [str(v["vendor"]) for v in charted],
            [round(v["mean_ack_hours"], 1) for v in charted],
            title=_("Mean time to acknowledge (h)"),
            unit=" h",
        )
        if charted
        else ""
    )
    return {
        "template": "health/dashboard_panel.html",
        "open_count": Incident.objects.filter(library=library)
        .exclude(status=IncidentStatus.RESOLVED)
        .count(),
        "down_count": states.get(HealthState.DOWN, 0),
        "degraded_count": states.get(HealthState.DEGRADED, 0),
        "overdue_count": Escalation.objects.filter(
            incident__library=library, acknowledged_at__isnull=True, due_at__lt=now
        ).count(),
        "vendors": vendors,
        "chart": chart,
    }
