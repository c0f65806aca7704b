"""Periodic jobs. Each app lists its own in `lifeline/<app>/schedule.py` as `JOBS`.

The job's task is enqueued on the task backend (database or RQ); the scheduler only decides
*when*. Claiming a run is one conditional UPDATE, safe with many schedulers on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

APPS = [
    "core",
    "registry",
    "health",
    "emergency",
    "delivery",
    "analytics",
    "accounts",
    "theses",
    "outreach",
    "reports",
    "research",
    "push",
    "reference",
    "knowledge",
]


@dataclass(frozen=True)
class Periodic:
    name: str
    every: dt.timedelta
    task: Any  # a django.tasks Task, or a plain callable run in-process
    enabled: Callable[[], bool] = lambda: True


def all_jobs() -> list[Periodic]:
    jobs: list[Periodic] = _core_jobs()
    for app in APPS[1:]:
        try:
            module = importlib.import_module(f"lifeline.{app}.schedule")
        except ModuleNotFoundError:
            continue
        jobs.extend(getattr(module, "JOBS", []))
    return jobs


def run_due(now: dt.datetime | None = None, jobs: list[Periodic] | None = None) -> list[str]:
    """One scheduler step: enqueue every due job exactly once; return the names enqueued."""
    from lifeline.core.models import ScheduledJob

    now = now or timezone.now()
    started: list[str] = []
    for job in jobs if jobs is not None else all_jobs():
        if not job.enabled():
            continue
        row, _ = ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at__lte=now).update(
            next_run_at=now + job.every, last_run_at=now
        )
        if not claimed:
            continue
        if hasattr(job.task, "enqueue"):
            job.task.enqueue()
        else:
            job.task()
        started.append(job.name)
    return started


def _core_jobs() -> list[Periodic]:
    from lifeline.core.tasks import sweep_notifications

    return [Periodic("core.notifications", dt.timedelta(minutes=1), sweep_notifications)]
