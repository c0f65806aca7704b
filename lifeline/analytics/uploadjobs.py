"""A COUNTER report uploaded on the page, imported by a background task (issue 21).

The page checks the file at once through `core.uploads.read_upload` (kind sniffed, ZIP
expansion and line length capped) and stores it; `run_counter_import` parses and stores the
report in the task, recording the problems or the report on the `CounterImport` row.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import timezone

from lifeline.analytics.choices import LogStatus
from lifeline.analytics.counter.parse import CounterError
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import CounterImport
from lifeline.core.uploads import read_upload

# What a COUNTER report may be: JSON, or a tabular report as TSV, CSV or XLSX.
COUNTER_KINDS = ("json", "tsv", "csv", "txt", "xlsx")


def run_counter_import(job: CounterImport) -> CounterImport:
    CounterImport.objects.filter(pk=job.pk).update(status=LogStatus.RUNNING)
    try:
        with job.file.open("rb") as handle:
            # The kind is sniffed; the uploader's name only tells TSV from CSV.
            _checked, data = read_upload(File(handle.file, name=job.filename), COUNTER_KINDS)
        report = import_file(job.library, data, job.filename, user=job.created_by)
    except ValidationError as exc:
        job.status, job.problems = LogStatus.FAILED, list(exc.messages)
    except CounterError as exc:
        job.status, job.problems = LogStatus.FAILED, [str(p) for p in exc.problems]
    else:
        job.status, job.report = LogStatus.DONE, report
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "problems", "report", "finished_at"])
    if job.file:
        job.file.delete(save=False)  # parsed or refused: the stored report is what counts
        CounterImport.objects.filter(pk=job.pk).update(file="")
    return job
