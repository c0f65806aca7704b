"""The page of a background import (`lifeline.core.jobs`): progress, cancel, outcome."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from lifeline.core import jobs
from lifeline.core.choices import JOB_STATUS_COLOURS, JobStatus
from lifeline.core.models import ImportJob

REFRESH_SECONDS = 2


def owned_job(request: HttpRequest, pk: int, kind: str | None = None) -> ImportJob:
    """The user's own job only (of `kind` when given): another user's, even of the same
    library, is a 404. Apps' result pages of jobs use this too."""
    job = get_object_or_404(ImportJob.objects.select_related("library"), pk=pk)
    user = request.user
    if not (getattr(user, "is_superuser", False) or job.created_by_id == user.pk):
        raise Http404
    if kind is not None and job.kind != kind:
        raise Http404
    return job


_job = owned_job


@login_required
@require_safe
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file a finished long action made (a PDF report, a plan), for its owner only."""
    job = owned_job(request, pk)
    name = job.result.get("download_name")
    if job.status != JobStatus.DONE or not name or not job.file:
        raise Http404
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=str(name),
        content_type=str(job.result.get("download_type") or "application/octet-stream"),
    )
    return response


@login_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status == JobStatus.DONE and job.result.get("redirect") and job.result_url:
        messages.success(request, job.message)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = job.result_url
            return response
        return redirect(job.result_url)
    done, total = jobs.progress_of(job)
    wording = jobs.wording_of(job.kind)
    heading = str(wording.heading)
    context = {
        "job": job,
        "wording": wording,
        # "Import: holdings.csv", "Import preview: kbart.txt", "Renewal plan": a long action
        # titled with its own heading says it once.
        "heading": heading,
        "show_title": bool(job.title) and job.title != heading,
        "library": job.library,
        "done": done,
        "total": total,
        "percent": jobs.percent(job),
        "colour": JOB_STATUS_COLOURS.get(JobStatus(job.status), "grey"),
        # Without JavaScript the page reloads itself until the job ends; htmx swaps the card.
        "refresh": None if job.finished else REFRESH_SECONDS,
    }
    template = "core/_job.html" if request.headers.get("HX-Request") else "core/job.html"
    status = (
        400 if job.status == JobStatus.FAILED and not request.headers.get("HX-Request") else 200
    )
    return render(request, template, context, status=status)


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if not job.finished:
        jobs.cancel(job)
    return redirect(jobs.url(job))
