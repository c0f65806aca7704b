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
def run_import(job_id: int) -> None:
    """Check, then write, a bulk import; the job row shows progress to the page that watches it."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from lifeline.core.uploads import read_upload
    from lifeline.delivery.choices import ImportStatus
    from lifeline.delivery.logic import importer
    from lifeline.delivery.models import ImportJob

    job = ImportJob.objects.select_related("library", "created_by").get(pk=job_id)

    def progress(phase: str, done: int, total: int) -> None:
        # Written outside the import's own transaction (checking runs before it), so pages see it.
        status = ImportStatus.CHECKING if phase == "checking" else ImportStatus.WRITING
        ImportJob.objects.filter(pk=job.pk).update(status=status, checked=done, total=total)

    progress("checking", 0, 0)
    try:
        # Through the one opener of uploads (issue 21): size, ZIP expansion and line limits.
        with job.upload.open("rb") as fh:
            _checked, data = read_upload(fh, None)
    except ValidationError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, errors=exc.messages, finished_at=timezone.now()
        )
        return
    try:
        with acting_as(job.created_by, "delivery import"):
            result = importer.import_requests(job.library, job.name, data, progress)
    except importer.ImportFailed as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, errors=exc.messages, finished_at=timezone.now()
        )
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE,
            created=result.created,
            updated=result.updated,
            suppliers_created=result.suppliers_created,
            finished_at=timezone.now(),
            checked=result.created + result.updated,
            total=result.created + result.updated,
        )
    finally:
        job.upload.delete(save=False)  # patron names may be in it: keep no copy once read
        ImportJob.objects.filter(pk=job.pk).update(upload="")


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
