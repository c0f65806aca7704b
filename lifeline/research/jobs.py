"""Imports of bibliographic exports and journal lists, run in the background by the one
import mechanism (`lifeline.core.jobs`): a progress page, Cancel, all or nothing.

Safe to run again on the same file: records are merged by DOI, UT, EID or title key, and a
journal list replaces that list's year.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.core.audit import acting_as
from lifeline.core.jobs import JobRefused, Outcome, Progress, read, runner
from lifeline.core.models import ImportJob
from lifeline.research.logic import importer, subject
from lifeline.research.logic.records import ParseError

MAX_UPLOAD = 200 * 2**20
# Exports are text whatever their name says (.ris, .net, .csv, .txt), or a workbook.
KINDS = ("txt", "xlsx")


def _precompute_after_commit(job: ImportJob) -> None:
    # The university's analysis figures, computed once the import is in (not on the first page
    # view after it): a pass over every paper, seconds at 200,000.
    library = job.library
    transaction.on_commit(lambda: subject.precompute(library))


def _data(job: ImportJob) -> bytes:
    try:
        return read(job, KINDS, max_bytes=MAX_UPLOAD)
    except ValidationError as exc:
        raise JobRefused(list(exc.messages)) from exc


@runner("research.records")
def run_records(job: ImportJob, progress: Progress) -> Outcome:
    data = _data(job)
    progress.advance(0, 1, force=True)
    try:
        with acting_as(job.created_by, "research import"):
            result = importer.import_records(job.library, data)
    except ParseError as exc:
        raise JobRefused([str(exc)]) from exc
    progress.advance(1, 1)
    _precompute_after_commit(job)
    return Outcome(
        message=_("%(c)s new, %(m)s merged with records already held.")
        % {"c": result.created, "m": result.merged},
        url=reverse("research:import", args=[job.library.code]),
        result={"format": result.fmt, "created": result.created, "merged": result.merged},
    )


@runner("research.list")
def run_list(job: ImportJob, progress: Progress) -> Outcome:
    data = _data(job)
    kind, year = str(job.params.get("list", "")), int(job.params.get("year") or 0)
    progress.advance(0, 1, force=True)
    try:
        with acting_as(job.created_by, "research import"):
            count = importer.import_journal_list(job.library, kind, year, data)
    except ParseError as exc:
        raise JobRefused([str(exc)]) from exc
    progress.advance(1, 1)
    _precompute_after_commit(job)
    return Outcome(
        message=_("%(n)s journals imported.") % {"n": count},
        url=reverse("research:import", args=[job.library.code]),
        result={"created": count},
    )
