"""The staff dashboard panel: theses waiting, failed checks, approved."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from lifeline.core.models import Library
from lifeline.theses.choices import Status
from lifeline.theses.models import Thesis


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    counts = Thesis.objects.filter(library=library).aggregate(
        total=Count("id"),
        waiting=Count("id", filter=Q(status=Status.WAITING)),
        failed=Count("id", filter=Q(status=Status.CHECKS_FAILED)),
        approved=Count("id", filter=Q(status=Status.APPROVED)),
    )
    if not counts["total"]:
        return None
    return {"template": "theses/panel.html", "library": library, "counts": counts}
