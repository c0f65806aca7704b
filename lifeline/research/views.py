"""Pages of research services: imports (staff), citation report requests (patrons from home),
the review queue, and the public verification of issued reports."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from lifeline.core import jobs
from lifeline.core.access import PATRON, PUBLIC, library_for
from lifeline.core.models import ImportJob, Library
from lifeline.core.permissions import user_can
from lifeline.core.typing import AuthedRequest
from lifeline.core.uploads import check_upload
from lifeline.research import jobs as research_jobs
from lifeline.research.choices import Status
from lifeline.research.forms import MAX_UPLOAD, ImportForm, RequestForm, VerifyUploadForm
from lifeline.research.logic import citation, novelty
from lifeline.research.logic.pdf import report_pdf
from lifeline.research.models import NoveltyRequest, RequestEvent, VerificationRequest

SLA = dt.timedelta(days=3)
UPLOAD_KINDS = ("txt", "csv", "tsv", "xlsx", "ris", "net")


CHANGE = "research.change"


def _staff(request: HttpRequest, lib: Library, action: str = CHANGE) -> None:
    if not user_can(request.user, lib, action):
        raise PermissionDenied


@login_required
def import_view(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, CHANGE)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_UPLOAD:
                raise ValidationError(
                    _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD // 2**20}
                )
            jobs.check(upload, research_jobs.KINDS)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            kind = form.cleaned_data.get("kind") or ""
            # Parsed and written in the background with a progress page (issue 16).
            job = jobs.start(
                library=lib,
                kind="research.list" if kind else "research.records",
                user=request.user,
                title=upload.name,
                upload=upload,
                params={"list": kind, "year": form.cleaned_data.get("year")} if kind else {},
            )
            return redirect(jobs.url(job))
    recent = ImportJob.objects.filter(library=lib, kind__startswith="research.")[:10]
    return render(request, "research/import.html", {"library": lib, "form": form, "jobs": recent})


@login_required
def new_request(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            citation.paper_lines(form.cleaned_data["papers"])
        except ValidationError as exc:
            form.add_error("papers", exc)
        else:
            patron = getattr(request.user, "patron", None)
            now = timezone.now()
            with transaction.atomic():
                req = VerificationRequest.objects.create(
                    library=lib,
                    patron=request.user,
                    patron_name=(patron.display_name if patron else "")
                    or request.user.get_username(),
                    purpose=form.cleaned_data["purpose"],
                    databases=form.cleaned_data["databases"],
                    papers_text=form.cleaned_data["papers"],
                    created_at=now,
                    due_at=now + SLA,
                )
                RequestEvent.objects.create(
                    request=req, status=Status.SUBMITTED, actor=request.user, at=now
                )
            messages.success(request, _("Your request has been received."))
            return redirect("research:mine", library=lib.code)
    return render(request, "research/new.html", {"library": lib, "form": form})


@login_required
def mine(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    reqs = VerificationRequest.objects.filter(library=lib, patron=request.user)
    searches = NoveltyRequest.objects.filter(library=lib, patron=request.user)
    return render(
        request, "research/mine.html", {"library": lib, "requests": reqs, "searches": searches}
    )


@login_required
def queue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, "view")
    reqs = VerificationRequest.objects.filter(library=lib).select_related("prepared_by")[:200]
    from lifeline.research.logic.counts import reports_per_month

    return render(
        request,
        "research/queue.html",
        {"library": lib, "requests": reqs, "per_month": reports_per_month(lib)},
    )


@login_required
def statistics(request: AuthedRequest, library: str) -> HttpResponse:
    """Volumes of the year for the service report (tables 1-3), and reports issued per month."""
    from lifeline.research.logic.counts import reports_per_month, service_counts

    lib = library_for(request, library, "view")
    try:
        year = int(request.GET.get("year", timezone.localdate().year))
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 1990), 2100)
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    counts = service_counts(lib, start, end)
    labels = {
        "citation_requests": _("Citation report requests received"),
        "citation_reports_issued": _("Citation reports issued"),
        "novelty_requests": _("Novelty search requests received"),
        "novelty_reports_issued": _("Novelty search reports issued"),
        "subject_analysis": _("Subject analysis reports"),
        "research_output": _("Research output reports"),
        "ip_application": _("Patent applications assisted"),
        "ip_fee": _("Official fees paid (people)"),
        "ip_search": _("Patent searches"),
        "ip_training": _("Training sessions"),
    }
    rows = [(labels[k], v) for k, v in counts.items()]
    months = [m for m in reports_per_month(lib) if m["month"].startswith(str(year))]
    return render(
        request,
        "research/statistics.html",
        {"library": lib, "year": year, "rows": rows, "months": months},
    )


def _request_for(request: HttpRequest, pk: int) -> VerificationRequest:
    req = get_object_or_404(VerificationRequest.objects.select_related("library"), pk=pk)
    if not (
        user_can(request.user, req.library) or (req.patron_id and req.patron_id == request.user.pk)
    ):
        raise Http404
    return req


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    req = _request_for(request, pk)
    staff = user_can(request.user, req.library, "research.change")
    preview = (
        citation.build_content(req, timezone.now()) if staff and not req.content else req.content
    )
    return render(
        request,
        "research/detail.html",
        {
            "req": req,
            "staff": staff,
            "content": preview,
            "events": req.events.select_related("actor"),
            "fee_base": reverse("research:detail", args=[req.pk]) + "fee/",
        },
    )


@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    req = _request_for(request, pk)
    try:
        if action == "prepare":
            _staff(request, req.library)
            citation.prepare(req, request.user)
        elif action == "issue":
            _staff(request, req.library, "research.review")
            citation.issue(req, request.user)
        elif action == "return":
            _staff(request, req.library, "research.review")
            req.move(Status.RETURNED, request.user, note=request.POST.get("note", "")[:2000])
        elif action == "cancel":
            if not (
                req.patron_id == request.user.pk
                or user_can(request.user, req.library, "research.change")
            ):
                raise PermissionDenied
            req.move(Status.CANCELLED, request.user)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("research:detail", pk=req.pk)


@login_required
def pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    req = _request_for(request, pk)
    if req.status != Status.ISSUED:
        raise Http404
    if req.pdf:
        with req.pdf.open("rb") as fh:
            body = fh.read()
    else:
        body = report_pdf(req)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{req.serial}.pdf"'
    return response


@require_safe
def verify(request: HttpRequest, library: str, serial: str, code: str) -> HttpResponse:
    """Public: anyone holding the report's URL or QR code sees whether it is genuine."""
    library_for(request, library, PUBLIC)
    req: VerificationRequest | NoveltyRequest | None = citation.verify(library, serial, code)
    if req is None:
        req = novelty.verify(library, serial, code)
    return render(
        request,
        "research/verify.html",
        {
            "req": req,
            "novelty": isinstance(req, NoveltyRequest),
            "serial": serial,
            "library_code": library,
        },
        status=200 if req else 404,
    )


def verify_upload(request: HttpRequest, library: str) -> HttpResponse:
    """Public: upload a report PDF; genuine only if byte for byte an issued one of this library.
    A public form (anyone holding a report may check it), so it takes a POST from anyone."""
    lib = library_for(request, library, PUBLIC)
    form = VerifyUploadForm(request.POST or None, request.FILES or None)
    checked = False
    req: VerificationRequest | NoveltyRequest | None = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_upload(upload, allowed=("pdf",), max_bytes=20 * 2**20)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            checked = True
            data = upload.read()
            req = citation.verify_pdf(lib.code, data) or novelty.verify_pdf(lib.code, data)
    return render(
        request,
        "research/verify_upload.html",
        {"library": lib, "form": form, "checked": checked, "req": req},
    )
