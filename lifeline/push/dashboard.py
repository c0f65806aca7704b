"""Staff dashboard panel: announcements published, scheduled and being sent."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lifeline.core.models import Library
from lifeline.push.choices import RunStatus, State
from lifeline.push.logic import runs
from lifeline.push.models import Announcement, PushRun, Subscriber


def panel(request: HttpRequest, library: Library) -> dict[str, Any] | None:
    sending = [
        (run, runs.progress(run))
        for run in PushRun.objects.filter(
            announcement__library=library, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
        ).select_related("announcement")[:3]
    ]
    return {
        "template": "push/_panel.html",
        "library": library,
        "live": Announcement.objects.visible().filter(library=library).count(),
        "scheduled": Announcement.objects.filter(library=library, state=State.SCHEDULED).count(),
        "subscribers": Subscriber.objects.filter(
            library=library, confirmed_at__isnull=False, unsubscribed_at__isnull=True
        ).count(),
        "sending": sending,
    }
