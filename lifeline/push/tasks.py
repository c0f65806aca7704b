from __future__ import annotations

from django.tasks import task

from lifeline.push.logic import publish, runs


@task()
def push_run(run_pk: int) -> int:
    """Send an announcement to its subscribers (or take over a run whose worker died)."""
    return runs.execute(run_pk)


@task()
def push_tick() -> list[int]:
    """Publish scheduled announcements that are due, expire the past ones, resume dead runs."""
    published, expired = publish.tick()
    return [published, expired, runs.resume_stale()]
