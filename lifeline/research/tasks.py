"""Background work of research services (django.tasks). Imports run on `lifeline.core.jobs`
(see `research/jobs.py`)."""

from __future__ import annotations

from django.tasks import task


@task()
def notify_overdue() -> int:
    """SLA: tell the library's research staff once about each request past its due time."""
    from lifeline.research.logic.workflow import notify_overdue as run

    return run()
