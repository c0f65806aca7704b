"""Vendor catalogues and the library's holdings imported in the background
(`lifeline.core.jobs`): a 200,000-record MARC file takes tens of seconds, longer than a request
should. All or nothing (the runner runs in the job's one transaction). A catalogue imported twice
is two catalogues, as uploading it twice on the page always was; holdings replace the previous set.
"""

from __future__ import annotations

from django.core.files import File
from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.core.jobs import JobRefused, Outcome, Progress, runner
from lifeline.core.models import ImportJob
from lifeline.selection import services
from lifeline.selection.importjobs import read_upload_checks
from lifeline.selection.logic.marc import ImportRefused
from lifeline.selection.logic.marc import Progress as MarcProgress

CATALOGUE = "selection.catalogue"
HOLDINGS = "selection.holdings"


def _data(job: ImportJob) -> bytes:
    """The stored upload, through the same checks as on the page. Not `jobs.read`: ISO 2709 has
    no line breaks, so the text opener's line-length cap would refuse every MARC file; the MARC
    reader checks leaders and lengths itself, and anything else must pass the upload opener."""
    if not job.file:
        raise JobRefused([_("The uploaded file is no longer there. Please upload it again.")])
    with job.file.open("rb") as handle:
        stored = File(handle.file, name=job.title)
        read_upload_checks(stored)
        data = stored.read(services.max_catalogue_bytes() + 1)
    services.check_size(len(data))
    return data


def _advance(progress: Progress) -> MarcProgress:
    def report(done: int, total: int) -> None:
        progress.advance(done, total)

    return report


@runner(CATALOGUE)
def run_catalogue_import(job: ImportJob, progress: Progress) -> Outcome:
    try:
        data = _data(job)
        catalogue = services.import_catalogue(
            job.library,
            data,
            name=str(job.params.get("name", "")),
            vendor=str(job.params.get("vendor", "")),
            file_name=job.title,
            flavour=str(job.params.get("flavour") or "auto"),
            user=job.created_by,
            progress=_advance(progress),
        )
    except ImportRefused as exc:
        raise JobRefused([str(p) for p in exc.problems]) from exc
    progress.advance(len(data), len(data))
    return Outcome(
        message=_("Imported %(n)d titles from “%(file)s”.")
        % {"n": catalogue.lines, "file": job.title[:100]},
        url=reverse("selection:manage", args=[job.library.code]),
        result={"titles": catalogue.lines, "catalogue": catalogue.pk},
        redirect=True,
    )


@runner(HOLDINGS)
def run_holdings_import(job: ImportJob, progress: Progress) -> Outcome:
    try:
        data = _data(job)
        counts = services.import_holdings(
            job.library, data, file_name=job.title, progress=_advance(progress)
        )
    except ImportRefused as exc:
        raise JobRefused([str(p) for p in exc.problems]) from exc
    progress.advance(len(data), len(data))
    return Outcome(
        message=_("%(n)d holdings loaded; catalogue lines: %(held)d held, %(new)d new.")
        % {
            "n": counts.get("holdings", 0),
            "held": counts.get("held", 0),
            "new": counts.get("new", 0),
        },
        url=reverse("selection:manage", args=[job.library.code]),
        result=dict(counts),
        redirect=True,
    )
