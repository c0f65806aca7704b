"""Background work of document delivery (django.tasks): the daily purge and privacy sweep."""

from __future__ import annotations

from django.tasks import task

from lifeline.core.audit import acting_as
from lifeline.delivery import services


@task()
def purge_and_anonymise() -> dict[str, int]:
    with acting_as(None, "delivery purge"):
        return {"files_purged": services.purge_files(), "requests_anonymised": services.anonymise()}


@task()
def send_iso_message(message_id: int) -> str:
    """One try at sending an ISO 18626 message to its peer (see `logic/transport.py`)."""
    from lifeline.delivery.logic import transport

    return transport.attempt(message_id)


@task()
def send_due_iso_messages() -> int:
    """Messages waiting for a peer that was down, or for a supplier's retry-after time."""
    from lifeline.delivery.logic import transport

    return transport.retry_due()
