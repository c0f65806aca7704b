"""Background work of research services (django.tasks): imports of exports and journal lists."""

from __future__ import annotations

from django.tasks import task


@task()
def run_import(job_id: int) -> None:
    """Parse, then write, one uploaded file; the job row tells the page the outcome."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from lifeline.core.audit import acting_as
    from lifeline.core.uploads import check_zip
    from lifeline.research.choices import ImportStatus
    from lifeline.research.forms import MAX_UPLOAD
    from lifeline.research.logic import importer
    from lifeline.research.logic.records import ParseError
    from lifeline.research.models import ImportJob

    job = ImportJob.objects.select_related("library", "created_by").get(pk=job_id)
    with job.upload.open("rb") as fh:
        data = fh.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise ParseError(f"the file is larger than {MAX_UPLOAD} bytes")
        if data[:4] == b"PK\x03\x04":
            try:
                check_zip(
                    data, job.upload.name or ""
                )  # a workbook's members, before openpyxl opens it
            except ValidationError as exc:
                raise ParseError(" ".join(exc.messages)) from exc
        with acting_as(job.created_by, "research import"):
            if job.kind:
                created = importer.import_journal_list(
                    job.library, job.kind, job.list_year or 0, data
                )
                merged, fmt = 0, "list"
            else:
                result = importer.import_records(job.library, data)
                created, merged, fmt = result.created, result.merged, result.fmt
    except ParseError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, errors=[str(exc)], finished_at=timezone.now()
        )
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE,
            created=created,
            merged=merged,
            fmt=fmt,
            finished_at=timezone.now(),
        )
    finally:
        job.upload.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(upload="")


@task()
def notify_overdue() -> int:
    """SLA: tell the library's research staff once about each request past its due time."""
    from lifeline.research.logic.workflow import notify_overdue as run

    return run()
