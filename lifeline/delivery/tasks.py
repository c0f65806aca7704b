"""Background work of document delivery (django.tasks): the daily purge and privacy sweep."""

from __future__ import annotations

from django.tasks import task

from lifeline.core.audit import acting_as
from lifeline.delivery import services


@task()
def purge_and_anonymise() -> dict[str, int]:
    with acting_as(None, "delivery purge"):
        return {"files_purged": services.purge_files(), "requests_anonymised": services.anonymise()}
