"""Background work of the analytics app: thin wrappers over `sushi` and `services`."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from lifeline.analytics import sushi
from lifeline.analytics.models import SushiCredential, SushiHarvest


def _match_after(harvests: list[SushiHarvest]) -> None:
    """Title reports just stored: match their titles to KBART holdings (once per library)."""
    from lifeline.analytics.services import match_titles

    libraries = {h.credential.library_id: h.credential.library for h in harvests if h.report_id}
    for library in libraries.values():
        match_titles(library)


@task()
def harvest_due() -> int:
    """Daily: last month's reports of every active SUSHI account, and the retries that are due."""
    done = sushi.harvest_due()
    _match_after(done)
    return len(done)


@task()
def harvest_now(credential_id: int, report_code: str, begin: str, end: str) -> str:
    credential = SushiCredential.objects.get(pk=credential_id)
    harvest = sushi.start_harvest(
        credential, report_code, dt.date.fromisoformat(begin), dt.date.fromisoformat(end)
    )
    harvest = sushi.run_harvest(harvest)
    _match_after([harvest])
    return harvest.status


@task()
def match_titles(library_id: int) -> int:
    """Match the library's COUNTER titles to KBART holdings again (after a KBART list changed)."""
    from lifeline.analytics.services import match_titles as run
    from lifeline.core.models import Library

    return run(Library.objects.get(pk=library_id)).matched


@task()
def analyse_log(log_import_id: int) -> str:
    from lifeline.analytics.logimport import run_log_import
    from lifeline.analytics.models import LogImport

    return run_log_import(LogImport.objects.get(pk=log_import_id)).status


@task()
def signal_usage_drops() -> int:
    from lifeline.analytics.services import signal_usage_drops as run

    return len(run())
