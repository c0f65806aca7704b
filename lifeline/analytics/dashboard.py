"""The usage panel on the staff dashboard: the year's top resources and off-campus share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from lifeline.analytics.charts import figures, last_year
from lifeline.analytics.choices import HarvestStatus
from lifeline.analytics.models import SushiHarvest
from lifeline.core.models import Library
from lifeline.core.permissions import user_can


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    if not user_can(request.user, library):
        return None
    start, end = last_year(timezone.localdate())
    data = figures(library, start, end, top=8)
    troubled = SushiHarvest.objects.filter(
        credential__library=library,
        status__in=[HarvestStatus.UNAUTHORISED, HarvestStatus.INVALID],
        retry_at__isnull=True,
        started_at__gte=timezone.now() - dt.timedelta(days=45),
    ).count()
    return {
        "template": "analytics/dashboard_panel.html",
        "library": library,
        "start": start,
        "end": end,
        "troubled_harvests": troubled,
        **data,
    }
