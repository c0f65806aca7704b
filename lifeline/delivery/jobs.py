"""Past document-delivery requests imported in the background (`lifeline.core.jobs`): a
library's years of history from its old system, all or nothing, safe to import again (the
same external ids update the same requests)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.core.audit import acting_as
from lifeline.core.jobs import JobRefused, Outcome, Progress, read, runner
from lifeline.core.models import ImportJob
from lifeline.delivery.logic import importer


@runner("delivery.history")
def run_history_import(job: ImportJob, progress: Progress) -> Outcome:
    # The kind is left to the reader, which sniffs CSV (UTF-8 or GBK) and XLSX itself.
    data = read(job, None)

    def report(phase: str, done: int, total: int) -> None:
        progress.advance(done, total)

    try:
        with acting_as(job.created_by, "delivery import"):
            result = importer.import_requests(job.library, job.title, data, report)
    except importer.ImportFailed as exc:
        raise JobRefused(exc.messages) from exc
    return Outcome(
        message=_("%(c)s requests created, %(u)s updated, %(s)s suppliers added.")
        % {"c": result.created, "u": result.updated, "s": result.suppliers_created},
        url=reverse("delivery:statistics", args=[job.library.code]),
        result={
            "created": result.created,
            "updated": result.updated,
            "suppliers_created": result.suppliers_created,
        },
    )
