"""Background work of the analytics app: thin wrappers over `sushi` and `services`."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from lifeline.analytics import sushi
from lifeline.analytics.models import SushiCredential


@task()
def harvest_due() -> int:
    """Daily: last month's reports of every active SUSHI account, and the retries that are due."""
    return len(sushi.harvest_due())


@task()
def harvest_now(credential_id: int, report_code: str, begin: str, end: str) -> str:
    credential = SushiCredential.objects.get(pk=credential_id)
    harvest = sushi.start_harvest(
        credential, report_code, dt.date.fromisoformat(begin), dt.date.fromisoformat(end)
    )
    return sushi.run_harvest(harvest).status


@task()
def analyse_log(log_import_id: int) -> str:
    from lifeline.analytics.logimport import run_log_import
    from lifeline.analytics.models import LogImport

    return run_log_import(LogImport.objects.get(pk=log_import_id)).status


@task()
def signal_usage_drops() -> int:
    from lifeline.analytics.services import signal_usage_drops as run

    return len(run())
