"""Background work of Access health (django.tasks)."""

from __future__ import annotations

import datetime as dt

from django.tasks import task
from django.utils import timezone

from lifeline.health.models import ProbeResult

# Evidence older than this is deleted; state changes (Flip) are kept, so uptime is unaffected.
EVIDENCE_DAYS = 60


def prune_evidence(now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - dt.timedelta(days=EVIDENCE_DAYS)
    deleted, _ = ProbeResult.objects.filter(at__lt=cutoff).delete()
    return deleted


@task()
def prune_evidence_task() -> int:
    return prune_evidence()
