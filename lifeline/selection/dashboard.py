"""The staff dashboard panel: open campaigns, recommendations waiting, books to send home."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.selection.choices import SHIP_CLOSED, CampaignStatus, RecStatus
from lifeline.selection.models import Campaign, HomeDelivery, Recommendation


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    if not user_can(request.user, library, "selection.manage") and not user_can(
        request.user, library, "selection.deliver"
    ):
        return None
    counts = {
        "open": Campaign.objects.filter(library=library, status=CampaignStatus.OPEN).count(),
        "recs": Recommendation.objects.filter(library=library, status=RecStatus.QUEUED).count(),
        "home": HomeDelivery.objects.filter(library=library)
        .exclude(status__in=SHIP_CLOSED)
        .count(),
    }
    return {"template": "selection/panel.html", "library": library, "counts": counts}
