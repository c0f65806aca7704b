"""Background work of the service report."""

from __future__ import annotations

from django.tasks import task

from lifeline.reports import sending


@task()
def send_monthly_reports() -> int:
    return sending.send_monthly()
