"""Staff dashboard panel: events in force (real and drills) with their progress."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.emergency.choices import EventStatus, TaskStatus
from lifeline.emergency.models import Event, Plan


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    now = timezone.now()
    events = list(
        Event.objects.filter(library=library, status=EventStatus.OPEN).annotate(
            n_tasks=Count("tasks", filter=~Q(tasks__status=TaskStatus.WITHDRAWN)),
            n_done=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE)),
            n_overdue=Count(
                "tasks", filter=Q(tasks__status=TaskStatus.OPEN, tasks__due_at__lt=now)
            ),
        )
    )
    return {
        "template": "emergency/_panel.html",
        "library": library,
        "open_events": events,
        "plans": Plan.objects.filter(library=library).count(),
        "can_declare": user_can(request.user, library, "emergency.declare"),
    }
