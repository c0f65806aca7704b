"""The service report as PDF, made by a background job (`lifeline.core.jobs`, issue 16 part 3):
building every app's figures and laying out the PDF with an embedded CJK font holds a worker
for seconds. The outcome is the file, for the user who asked for it only."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.core.jobs import Outcome, Progress, making, runner
from lifeline.core.models import ImportJob
from lifeline.reports import exports, pdf, services

PDF = "reports.pdf"


@runner(PDF, making(gettext_lazy("Service report (PDF)")))
def run_report_pdf(job: ImportJob, progress: Progress) -> Outcome:
    start = dt.date.fromisoformat(job.params["start"])
    end = dt.date.fromisoformat(job.params["end"])
    progress.advance(0, 2, force=True)
    built = services.build(job.library, start, end)
    progress.advance(1, 2, force=True)
    body = pdf.pdf(built)
    return Outcome(
        message=_("%(title)s: the PDF is ready.") % {"title": exports.title(built)},
        url=reverse("core:job_download", args=[job.pk]),
        download=(f"report-{job.library.code}-{start}-{end}.pdf", "application/pdf", body),
        redirect=True,
    )
