"""A COUNTER report uploaded on the page, imported in the background (`lifeline.core.jobs`):
a 300,000-row XLSX held a web worker 12.7 s (issue 21). All or nothing."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.analytics.counter.parse import CounterError
from lifeline.analytics.importer import import_file
from lifeline.core.jobs import JobRefused, Outcome, Progress, making, read, runner
from lifeline.core.models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


# The renewal plan (issue 16, part 3): the MILP over every priced resource and its KBART overlap,
# solved in the worker, not in the request. The plan's page, or its XLSX or PDF, is the outcome.
RENEWAL = "analytics.renewal"
PLAN_FORMATS = {
    "xlsx": ("renewal-plan.xlsx", XLSX),
    "pdf": ("renewal-plan.pdf", "application/pdf"),
}


@runner(RENEWAL, making(gettext_lazy("Renewal plan")))
def run_renewal_plan(job: ImportJob, progress: Progress) -> Outcome:
    from lifeline.analytics import exports, renewal

    params = job.params
    start, end = dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])
    cut, weight = float(params["cut"]), float(params["denial_weight"])
    progress.advance(0, 3, force=True)
    candidates, problems = renewal.candidates_for(job.library, start, end, weight)
    progress.advance(1, 3, force=True)
    plan = renewal.plan(candidates, cut)
    progress.advance(2, 3, force=True)
    title = _("Renewal plan: %(library)s, budget cut %(cut)s %%") % {
        "library": job.library.display_name,
        "cut": f"{cut:g}",
    }
    fmt = params.get("format") or ""
    if fmt in PLAN_FORMATS:
        name, content_type = PLAN_FORMATS[fmt]
        body = exports.plan_xlsx(plan) if fmt == "xlsx" else exports.plan_pdf(plan, title)
        return Outcome(
            message=title,
            url=reverse("core:job_download", args=[job.pk]),
            problems=problems,
            download=(name, content_type, body),
            redirect=True,
        )
    html = render_to_string(
        "analytics/_renewal_plan.html", {"plan": plan, "summary": exports.summary_rows(plan)}
    )
    return Outcome(
        message=title,
        url=reverse("analytics:renewal_plan", args=[job.pk]),
        problems=problems,
        # Rendered by our own template (every value escaped); the page shows it as it is.
        result={"html": html, "title": title, "problems": problems},
        redirect=True,
    )
