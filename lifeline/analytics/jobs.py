"""A COUNTER report uploaded on the page, imported in the background (`lifeline.core.jobs`):
a 300,000-row XLSX held a web worker 12.7 s (issue 21). All or nothing."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.analytics.counter.parse import CounterError
from lifeline.analytics.importer import import_file
from lifeline.core.jobs import JobRefused, Outcome, Progress, read, runner
from lifeline.core.models import ImportJob

# What a COUNTER report may be: JSON, or a tabular report as TSV, CSV or XLSX.
COUNTER_KINDS = ("json", "tsv", "csv", "txt", "xlsx")


@runner("analytics.counter")
def run_counter_import(job: ImportJob, progress: Progress) -> Outcome:
    # The kind is sniffed again by the one opener; the uploader's name only tells TSV from CSV.
    data = read(job, COUNTER_KINDS)
    progress.advance(0, 1, force=True)
    try:
        report = import_file(job.library, data, job.title, user=job.created_by)
    except CounterError as exc:
        raise JobRefused([str(p) for p in exc.problems]) from exc
    progress.advance(1, 1)
    if report.report_id[:2] in {"TR", "IR"}:
        from lifeline.analytics.tasks import match_titles

        match_titles.enqueue(job.library_id)
    return Outcome(
        message=_("Imported %(report)s: %(rows)s counts stored, %(replaced)s replaced.")
        % {"report": report.report_id, "rows": report.row_count, "replaced": report.replaced_rows},
        url=reverse("analytics:report", args=[report.pk]),
        result={"report": report.pk, "rows": report.row_count, "replaced": report.replaced_rows},
        redirect=True,  # the report's page shows its warnings and kept exceptions
    )
