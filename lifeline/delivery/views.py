"""Pages of document delivery: patron intake and tracking, staff queue and actions, statistics,
import, suppliers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from lifeline.core import jobs
from lifeline.core.access import PATRON, library_for
from lifeline.core.choices import JOB_STATUS_COLOURS
from lifeline.core.models import ImportJob as CoreImportJob
from lifeline.core.models import Library
from lifeline.core.params import parse_ids
from lifeline.core.permissions import VIEW, user_can
from lifeline.core.typing import AuthedRequest
from lifeline.delivery import services, views_iso
from lifeline.delivery.choices import OPEN_STATUSES, STATUS_COLOURS
from lifeline.delivery.forms import (
    CitationForm,
    DeliverForm,
    ImportForm,
    QueueFilterForm,
    RequestForm,
    StatsForm,
    SupplierChoiceForm,
    SupplierForm,
    UnfilledForm,
)
from lifeline.delivery.logic import iso18626, reports
from lifeline.delivery.logic.citations import parse_citation
from lifeline.delivery.logic.files import check_size
from lifeline.delivery.models import DeliveryFile, DeliveryRequest, Supplier

CHANGE = "delivery.change"


def _library(
    request: HttpRequest, code: str, read: str = VIEW, write: str | None = None
) -> Library:
    # Every page of a library goes through the one resolver (issue 21): a patron of A posting
    # to B's /new/ is refused as the API refuses it.
    return library_for(request, code, read, write=write)


def _staff(request: HttpRequest, library: Library, action: str = CHANGE) -> None:
    if not user_can(request.user, library, action):
        raise PermissionDenied


# --- patron --------------------------------------------------------------------------------


@login_required
def new_request(request: AuthedRequest, library: str) -> HttpResponse:
    """Step 1: paste a citation (or type). Step 2: confirm the fields read from it. Works without
    JS.
    """
    lib = _library(request, library, PATRON)
    problems: list[str] = []
    style = ""
    if request.method == "POST" and "parse" in request.POST:
        cite = CitationForm(request.POST)
        cite.is_valid()
        parsed = parse_citation(cite.cleaned_data.get("citation", ""))
        problems, style = parsed.problems, parsed.style
        initial = {
            **parsed.fields,
            "citation": cite.cleaned_data.get("citation", ""),
            "form_token": uuid.uuid4().hex,
        }
        form = RequestForm(initial=initial)
        template = "delivery/_fields.html" if request.htmx else "delivery/new.html"
        return render(
            request,
            template,
            {
                "library": lib,
                "cite": cite,
                "form": form,
                "problems": problems,
                "style": style,
                "confirm": True,
            },
        )
    if request.method == "POST":
        form = RequestForm(request.POST)
        cite = CitationForm(initial={"citation": request.POST.get("citation", "")})
        if form.is_valid():
            data = form.cleaned_data
            try:
                req, created = services.submit(
                    lib, data, patron=request.user, idempotency_key=data.get("form_token") or ""
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                if not created:
                    messages.info(
                        request, _("You have already asked for this item: here is that request.")
                    )
                return redirect("delivery:detail", pk=req.pk)
        return render(
            request,
            "delivery/new.html",
            {"library": lib, "cite": cite, "form": form, "confirm": True},
        )
    return render(
        request,
        "delivery/new.html",
        {
            "library": lib,
            "cite": CitationForm(),
            "form": RequestForm(initial={"form_token": uuid.uuid4().hex}),
            "confirm": False,
        },
    )


@login_required
def my_requests(request: AuthedRequest, library: str) -> HttpResponse:
    lib = _library(request, library, PATRON)
    rows = DeliveryRequest.objects.filter(library=lib, patron=request.user).order_by("-created_at")[
        :200
    ]
    return render(
        request, "delivery/mine.html", {"library": lib, "rows": rows, "colours": STATUS_COLOURS}
    )


def _can_see(request: HttpRequest, req: DeliveryRequest) -> bool:
    return (req.patron_id is not None and req.patron_id == request.user.pk) or user_can(
        request.user, req.library
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(
        DeliveryRequest.objects.select_related("library", "supplier", "assignee"), pk=pk
    )
    if not _can_see(request, req):
        raise Http404
    staff = user_can(request.user, req.library, CHANGE)
    context: dict[str, Any] = {
        "library": req.library,
        "req": req,
        "staff": staff,
        "events": req.events.all(),
        "files": req.files.all(),
        "now": timezone.now(),
        "colour": req.status_colour,
        "max_upload": filesizeformat(settings.LIFELINE_MAX_UPLOAD_BYTES),
    }
    if staff:
        context.update(
            supplier_form=SupplierChoiceForm(library=req.library),
            deliver_form=DeliverForm(),
            unfilled_form=UnfilledForm(),
            messages_iso=req.iso_messages.select_related("peer")[:50],
        )
    context.update(views_iso.detail_context(req, staff))
    return render(request, "delivery/detail.html", context)


def refuse_oversized(view: Any) -> Any:
    """Refuse an upload that declares more than the limit before anything reads the body.

    The CSRF middleware would parse (and spool to disk) a multipart body to find its token, so the
    view is CSRF-exempt on the outside, checks Content-Length, and only then runs CSRF-protected.
    """
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            try:
                check_size(_("the upload"), int(request.META.get("CONTENT_LENGTH") or 0) or 1)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect(
                    request.get_full_path()
                    if "pk" not in kwargs
                    else reverse("delivery:detail", args=[kwargs["pk"]])
                )
        return protected(request, *args, **kwargs)

    return wrapper


@refuse_oversized
@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """Every button on the request page posts here; the service function does the work."""
    req = get_object_or_404(DeliveryRequest.objects.select_related("library", "supplier"), pk=pk)
    if not _can_see(request, req):
        raise Http404
    own = req.patron_id == request.user.pk
    staff = user_can(request.user, req.library, CHANGE)
    try:
        if action == "cancel" and (own or staff):
            services.cancel(req, by=request.user, note=request.POST.get("note", "")[:2000])
        elif action == "reopen" and own:
            services.reopen_deflected(req, by=request.user)
        elif not staff:
            raise PermissionDenied
        elif action == "start":
            services.assign([req], request.user, by=request.user)
        elif action == "supplier":
            form = SupplierChoiceForm(request.POST, library=req.library)
            if not form.is_valid():
                raise ValidationError(_("Please choose a supplier."))
            services.send_to_supplier(req, form.cleaned_data["supplier"], by=request.user)
        elif action == "deliver":
            upload = DeliverForm(request.POST, request.FILES)
            if not upload.is_valid():
                raise ValidationError(_("Please choose the file to deliver."))
            services.deliver(req, upload.cleaned_data["file"], by=request.user)
        elif action == "unfilled":
            why = UnfilledForm(request.POST)
            if not why.is_valid():
                raise ValidationError(_("Please choose why the request cannot be filled."))
            services.mark_unfilled(
                req, why.cleaned_data["reason"], note=why.cleaned_data["note"], by=request.user
            )
        else:
            raise Http404
    except (ValidationError, iso18626.Iso18626Error) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
        return redirect("delivery:detail", pk=req.pk)
    messages.success(request, _("Done."))
    return redirect("delivery:detail", pk=req.pk)


@login_required
def download(request: HttpRequest, token: str) -> HttpResponseBase:
    f = get_object_or_404(
        DeliveryFile.objects.select_related("request", "request__library"), token=token
    )
    if not _can_see(request, f.request):
        raise Http404
    if not f.is_available():
        return render(
            request, "delivery/expired.html", {"library": f.request.library, "file": f}, status=410
        )
    services.record_download(f)
    return FileResponse(
        f.file.open("rb"), as_attachment=True, filename=f.original_name, content_type=f.content_type
    )


# --- staff ---------------------------------------------------------------------------------


@login_required
def queue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = _library(request, library, VIEW, write=CHANGE)
    if request.method == "POST":
        ids = parse_ids(request.POST.getlist("ids"))
        chosen = list(DeliveryRequest.objects.filter(library=lib, pk__in=ids))
        count = services.assign(chosen, request.user, by=request.user)
        messages.success(request, _("%(count)s request(s) assigned to you.") % {"count": count})
        return redirect(request.get_full_path())
    form = QueueFilterForm(request.GET or None)
    qs = DeliveryRequest.objects.filter(library=lib).select_related("assignee", "supplier")
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status") or ""
    if status == "":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if data.get("doc_type"):
        qs = qs.filter(doc_type=data["doc_type"])
    if data.get("mine"):
        qs = qs.filter(assignee=request.user)
    if data.get("overdue"):
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    if data.get("q"):
        q = data["q"]
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(doi__iexact=q)
            | Q(source__icontains=q)
            | Q(patron_name__icontains=q)
        )
    rows = list(qs.order_by("due_at", "created_at")[:300])
    return render(
        request,
        "delivery/queue.html",
        {
            "library": lib,
            "form": form,
            "rows": rows,
            "now": timezone.now(),
            "colours": STATUS_COLOURS,
            "can_change": user_can(request.user, lib, CHANGE),
        },
    )


@login_required
def suppliers(request: HttpRequest, library: str) -> HttpResponse:
    """The library's suppliers: every staff role sees them, delivery staff add and edit."""
    lib = _library(request, library, VIEW, write=CHANGE)
    rows = Supplier.objects.filter(library=lib).select_related("partner")
    return render(
        request,
        "delivery/suppliers.html",
        {"library": lib, "rows": rows, "can_change": user_can(request.user, lib, CHANGE)},
    )


@login_required
def supplier_edit(request: HttpRequest, library: str, pk: int | None = None) -> HttpResponse:
    lib = _library(request, library, CHANGE)
    supplier = get_object_or_404(Supplier, library=lib, pk=pk) if pk is not None else None
    form = SupplierForm(request.POST or None, instance=supplier, library=lib)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Supplier “%(name)s” saved.") % {"name": saved})
        return redirect("delivery:suppliers", library=lib.code)
    return render(
        request,
        "delivery/supplier_form.html",
        {"library": lib, "form": form, "supplier": supplier},
    )


def _period(request: HttpRequest) -> tuple[StatsForm, dt.date, dt.date]:
    today = timezone.localdate()
    form = StatsForm(
        request.GET or None, initial={"start": today.replace(month=1, day=1), "end": today}
    )
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, today.replace(month=1, day=1), today


@login_required
def statistics(request: HttpRequest, library: str) -> HttpResponse:
    lib = _library(request, library, VIEW, write=CHANGE)
    form, start, end = _period(request)
    report = reports.build(lib, start, end)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            reports.xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="delivery-{lib.code}-{start}-{end}.xlsx"'
        )
        return response
    return render(
        request,
        "delivery/stats.html",
        {"library": lib, "form": form, "report": report, "charts": reports.charts(report)},
    )


@refuse_oversized
@login_required
def import_view(request: AuthedRequest, library: str) -> HttpResponse:
    """Upload a file; the import runs in the background (`core.jobs`), its page shows progress."""
    lib = _library(request, library, CHANGE)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = jobs.start(
            library=lib,
            kind="delivery.history",
            user=request.user,
            title=upload.name,
            upload=upload,
        )
        return redirect(jobs.url(job))
    recent = CoreImportJob.objects.filter(
        library=lib, kind="delivery.history", created_by=request.user
    )[:10]
    return render(
        request,
        "delivery/import.html",
        {"library": lib, "form": form, "jobs": recent, "colours": JOB_STATUS_COLOURS},
    )
