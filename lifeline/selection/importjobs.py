"""A catalogue or holdings file uploaded on a page, imported by a background task (as the
analytics COUNTER upload does) with its progress on the job's row: the page polls it.

The page checks the file at once (size, kind) and stores it; `run_import` reads and imports it
in the task through the same all-or-nothing service functions, recording the problems or the
result. Progress is written by a separate UPDATE outside the import's transaction (reading
happens before the writing transaction opens), so the page sees it while the task works.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import timezone

from lifeline.core.uploads import check_upload
from lifeline.selection import services
from lifeline.selection.choices import JobStatus, SourceFormat
from lifeline.selection.logic.marc import ImportRefused
from lifeline.selection.models import ImportJob


def read_upload_checks(file: Any) -> None:
    """The quick checks of the one upload opener, on the page before the file is stored and in
    the task before it is read: size first; a file that is not ISO 2709 (which has no magic
    bytes and is binary; its leader is checked by the MARC reader) must be a sheet or XML."""
    services.check_size(int(getattr(file, "size", 0) or 0))
    head = file.read(4096)
    file.seek(0)
    if services.sniff(head) != SourceFormat.ISO2709:
        try:
            check_upload(file, ("xlsx", "csv", "txt", "tsv", "xml"), services.max_catalogue_bytes())
        except ValidationError as exc:
            raise ImportRefused(list(exc.messages)) from exc
    file.seek(0)


def run_import(job: ImportJob) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(done=done, total=total)

    try:
        with job.file.open("rb") as handle:
            stored = File(handle.file, name=job.filename)
            read_upload_checks(stored)
            data = stored.read(services.max_catalogue_bytes() + 1)
        services.check_size(len(data))
        if job.kind == ImportJob.HOLDINGS:
            job.result = services.import_holdings(
                job.library, data, file_name=job.filename, progress=progress
            )
        else:
            catalogue = services.import_catalogue(
                job.library,
                data,
                name=job.name,
                vendor=job.vendor,
                file_name=job.filename,
                flavour=job.flavour or "auto",
                user=job.created_by,
                progress=progress,
            )
            job.catalogue = catalogue
            job.result = {"titles": catalogue.lines}
    except ImportRefused as exc:
        job.status, job.problems = JobStatus.FAILED, [str(p) for p in exc.problems]
    else:
        job.status = JobStatus.DONE
        job.done = job.total = len(data)
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "problems", "result", "catalogue", "finished_at", "done", "total"]
    )
    if job.file:
        job.file.delete(save=False)  # imported or refused: the rows are what counts
        ImportJob.objects.filter(pk=job.pk).update(file="")
    return job
