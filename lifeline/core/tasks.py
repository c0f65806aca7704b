from __future__ import annotations

from django.tasks import task

from lifeline.core import notify


@task()
def deliver_notification(pk: int) -> bool:
    return notify.deliver(pk)


@task()
def sweep_notifications() -> int:
    return notify.send_pending()


@task()
def run_import_job(job_id: int) -> str:
    """A long import started from a page (`lifeline.core.jobs`)."""
    from lifeline.core.jobs import run

    return run(job_id)
