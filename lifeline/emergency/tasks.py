from __future__ import annotations

from django.tasks import task

from lifeline.emergency import services


@task()
def mark_overdue_tasks() -> int:
    return services.mark_overdue()
