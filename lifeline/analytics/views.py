"""Pages of the analytics app: thin, they call `importer` and `services`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.analytics import sushi
from lifeline.analytics.choices import HARVEST_STATUS_COLOURS, IMPORT_SOURCE_COLOURS, LOG_STATUS_COLOURS
from lifeline.analytics.counter.parse import CounterError
from lifeline.analytics.forms import (
    CounterUploadForm,
    HarvestForm,
    LogUploadForm,
    SourceMappingForm,
    SushiCredentialForm,
)
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import (
    DailyUsage,
    LogImport,
    SushiCredential,
    SushiHarvest,
    UsageRecord,
    UsageReport,
    UsageSource,
)
from lifeline.analytics.tasks import analyse_log, harvest_now
from lifeline.core.models import Library
from lifeline.core.permissions import user_can


def staff_library(request: HttpRequest, action: str = "view") -> Library:
    """The library chosen with ?library=code among those where the user may do `action`."""
    libraries = list(Library.objects.restrict(request.user, action).order_by("code"))
    if not libraries:
        raise PermissionDenied
    code = request.GET.get("library") or request.POST.get("library")
    return next((lib for lib in libraries if lib.code == code), libraries[0])


def _back(name: str, library: Library, *args: object) -> str:
    return f"{reverse(name, args=args)}?library={library.code}"


@login_required
def index(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    reports = UsageReport.objects.filter(library=library).order_by("-imported_at", "-id")[:50]
    return render(
        request,
        "analytics/index.html",
        {
            "library": library,
            "reports": reports,
            "form": CounterUploadForm(),
            "colours": IMPORT_SOURCE_COLOURS,
            "can_change": user_can(request.user, library, "analytics.change"),
        },
    )


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    library = staff_library(request, "analytics.change")
    form = CounterUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = import_file(library, upload.read(), upload.name, user=request.user)
        except CounterError as exc:
            problems = [str(p) for p in exc.problems]
        else:
            messages.success(
                request,
                _("Imported %(report)s: %(rows)s counts stored, %(replaced)s replaced.")
                % {
                    "report": report.report_id,
                    "rows": report.row_count,
                    "replaced": report.replaced_rows,
                },
            )
            return redirect(_back("analytics:report", library, report.pk))
    status = 400 if problems or form.errors else 200
    return render(
        request,
        "analytics/upload.html",
        {"library": library, "form": form, "problems": problems},
        status=status,
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(UsageReport.objects.restrict(request.user), pk=pk)
    sources = (
        UsageSource.objects.filter(records__report=report)
        .distinct()
        .select_related("resource")
        .order_by("platform", "database")
    )
    return render(
        request,
        "analytics/report.html",
        {
            "library": report.library,
            "report": report,
            "sources": sources,
            "stored": UsageRecord.objects.filter(report=report).count(),
        },
    )


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        source = get_object_or_404(UsageSource, pk=request.POST.get("source"), library=library)
        form = SourceMappingForm(request.POST, instance=source)
        if form.is_valid():
            mapped = form.save(commit=False)
            mapped.mapped_by_hand = True
            mapped.save()
            messages.success(request, _("Mapping saved."))
        else:
            messages.error(request, _("The resource could not be saved."))
        return redirect(_back("analytics:sources", library))
    rows = [
        (s, SourceMappingForm(instance=s))
        for s in UsageSource.objects.filter(library=library).select_related("resource")
    ]
    return render(
        request,
        "analytics/sources.html",
        {"library": library, "rows": rows, "can_change": can_change},
    )


@login_required
def sushi_index(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    harvests = (
        SushiHarvest.objects.filter(credential__library=library)
        .select_related("credential", "report")
        .defer("raw")[:100]
    )
    return render(
        request,
        "analytics/sushi.html",
        {
            "library": library,
            "can_change": can_change,
            "colours": HARVEST_STATUS_COLOURS,
            "credentials": SushiCredential.objects.filter(library=library).select_related("vendor"),
            "harvests": harvests,
            "form": SushiCredentialForm(library=library),
            "harvest_form": HarvestForm(),
        },
    )


@login_required
def sushi_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    library = staff_library(request, "analytics.change")
    instance = (
        get_object_or_404(SushiCredential, pk=pk, library=library)
        if pk
        else SushiCredential(library=library)
    )
    form = SushiCredentialForm(request.POST or None, instance=instance, library=library)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("SUSHI account saved."))
        return redirect(_back("analytics:sushi", library))
    return render(
        request,
        "analytics/sushi_edit.html",
        {"library": library, "form": form, "credential": instance},
        status=400 if form.errors else 200,
    )


@login_required
def sushi_harvest(request: HttpRequest, pk: int) -> HttpResponse:
    library = staff_library(request, "analytics.change")
    credential = get_object_or_404(SushiCredential, pk=pk, library=library)
    form = HarvestForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        messages.error(request, _("Choose a report and a period."))
        return redirect(_back("analytics:sushi", library))
    harvest_now.enqueue(
        credential.pk,
        form.cleaned_data["report"],
        form.cleaned_data["begin"].isoformat(),
        form.cleaned_data["end"].isoformat(),
    )
    messages.success(request, _("Harvest started; its result appears in the log below."))
    return redirect(_back("analytics:sushi", library))


@login_required
def sushi_reimport(request: HttpRequest, pk: int) -> HttpResponse:
    library = staff_library(request, "analytics.change")
    harvest = get_object_or_404(SushiHarvest, pk=pk, credential__library=library)
    if request.method == "POST":
        try:
            sushi.reimport(harvest)
            messages.success(request, _("The kept response was imported again."))
        except CounterError as exc:
            messages.error(
                request, "; ".join(str(p) for p in exc.problems[:5]) or _("No report to re-import.")
            )
    return redirect(_back("analytics:sushi", library))


@login_required
def logs_index(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    form = LogUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            log = LogImport(library=library, filename=upload.name[:255], size=upload.size, append=form.cleaned_data["append"],
                            created_by=request.user)
            log.file.save(upload.name, upload, save=True)
            analyse_log.enqueue(log.pk)
            return redirect(_back("analytics:log", library, log.pk))
    logs_qs = LogImport.objects.filter(library=library)[:50]
    return render(request, "analytics/logs.html", {"library": library, "form": form, "logs": logs_qs, "can_change": can_change,
                                                   "colours": LOG_STATUS_COLOURS}, status=400 if form.errors else 200)


@login_required
def log_detail(request: HttpRequest, pk: int) -> HttpResponse:
    log = get_object_or_404(LogImport.objects.restrict(request.user).select_related("library"), pk=pk)
    days = (
        DailyUsage.objects.filter(log_import=log)
        .values("resource__name")
        .annotate(
            total=Sum("requests"),
            pages=Sum("investigations"),
            off=Sum("requests", filter=Q(on_campus=False)),
        )
        .order_by("-total")[:50]
    )
    return render(request, "analytics/log.html", {"library": log.library, "log": log, "days": days, "colours": LOG_STATUS_COLOURS})
