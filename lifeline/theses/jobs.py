"""The list of students expected to deposit, imported in the background (`lifeline.core.jobs`):
a graduate school's whole year in one workbook, all or nothing."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.core.jobs import JobRefused, Outcome, Progress, read, runner
from lifeline.core.models import ImportJob
from lifeline.theses.logic import importer

MAX_BYTES = 20 * 1024 * 1024


@runner("theses.expected")
def run_expected_import(job: ImportJob, progress: Progress) -> Outcome:
    data = read(job, ("xlsx",), max_bytes=MAX_BYTES)
    progress.advance(0, 1, force=True)
    try:
        result = importer.import_expected(job.library, job.title, data)
    except importer.ImportFailed as exc:
        raise JobRefused(exc.messages) from exc
    progress.advance(1, 1)
    return Outcome(
        message=_("Imported: %(c)s new, %(u)s updated.")
        % {"c": result.created, "u": result.updated},
        url=reverse("theses:import", args=[job.library.code]),
        result={"created": result.created, "updated": result.updated},
    )
