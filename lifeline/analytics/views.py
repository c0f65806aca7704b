"""Pages of the analytics app: thin, they call `importer` and `services`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from lifeline.analytics import exports, sushi, value
from lifeline.analytics.charts import figures, last_year, resource_chart
from lifeline.analytics.choices import (
    HARVEST_STATUS_COLOURS,
    IMPORT_SOURCE_COLOURS,
    LOG_STATUS_COLOURS,
)
from lifeline.analytics.counter.parse import CounterError
from lifeline.analytics.forms import (
    CounterUploadForm,
    ExchangeRateForm,
    HarvestForm,
    LogUploadForm,
    RenewalForm,
    SourceMappingForm,
    SushiCredentialForm,
)
from lifeline.analytics.jobs import COUNTER_KINDS, PLAN_FORMATS, RENEWAL
from lifeline.analytics.models import (
    DailyUsage,
    ExchangeRate,
    LogImport,
    SushiCredential,
    SushiHarvest,
    UsageRecord,
    UsageReport,
    UsageSource,
)
from lifeline.analytics.services import match_titles, title_match_rate, unmatched_titles
from lifeline.analytics.tasks import analyse_log, harvest_now
from lifeline.analytics.tasks import match_titles as match_titles_task
from lifeline.core import jobs
from lifeline.core.access import library_for
from lifeline.core.choices import JobStatus
from lifeline.core.jobviews import owned_job
from lifeline.core.models import Library
from lifeline.core.params import parse_id
from lifeline.core.permissions import user_can
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.core.typing import AuthedRequest
from lifeline.registry.models import Resource


def staff_library(request: HttpRequest, action: str = "view") -> Library:
    """The library chosen with ?library=code among those where the user may do `action`."""
    libraries = list(Library.objects.restrict(request.user, action).order_by("code"))
    if not libraries:
        raise PermissionDenied
    code = request.GET.get("library") or request.POST.get("library")
    if not code:
        return libraries[0]
    # A library named in the request goes through the one resolver (issue 21).
    return library_for(request, code, action)


def _has_titles(report: UsageReport) -> bool:
    # Only title and item reports carry ISSNs/ISBNs to match against KBART lists. The matching
    # runs as a task: on a large library the first match inserts ~10^5 holdings (seconds).
    return report.report_id[:2] in {"TR", "IR"}


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
def upload(request: AuthedRequest) -> HttpResponse:
    """Check the file at once, import it in the background (`core.jobs`), show its progress."""
    library = staff_library(request, "analytics.change")
    form = CounterUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            jobs.check(upload, COUNTER_KINDS)
        except ValidationError as exc:
            problems = list(exc.messages)
        else:
            job = jobs.start(
                library=library,
                kind="analytics.counter",
                user=request.user,
                title=upload.name,
                upload=upload,
            )
            return redirect(jobs.url(job))
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
        source = get_object_or_404(
            UsageSource, pk=parse_id(request.POST.get("source")), library=library
        )
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
            if harvest.report is not None and _has_titles(harvest.report):
                match_titles_task.enqueue(library.pk)
            messages.success(request, _("The kept response was imported again."))
        except CounterError as exc:
            messages.error(
                request, "; ".join(str(p) for p in exc.problems[:5]) or _("No report to re-import.")
            )
    return redirect(_back("analytics:sushi", library))


@login_required
def logs_index(request: AuthedRequest) -> HttpResponse:
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    form = LogUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            log = LogImport(
                library=library,
                filename=upload.name[:255],
                size=upload.size,
                append=form.cleaned_data["append"],
                created_by=request.user,
            )
            log.file.save(upload.name, upload, save=True)
            analyse_log.enqueue(log.pk)
            return redirect(_back("analytics:log", library, log.pk))
    logs_qs = LogImport.objects.filter(library=library)[:50]
    return render(
        request,
        "analytics/logs.html",
        {
            "library": library,
            "form": form,
            "logs": logs_qs,
            "can_change": can_change,
            "colours": LOG_STATUS_COLOURS,
        },
        status=400 if form.errors else 200,
    )


@login_required
def log_detail(request: HttpRequest, pk: int) -> HttpResponse:
    log = get_object_or_404(
        LogImport.objects.restrict(request.user).select_related("library"), pk=pk
    )
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
    return render(
        request,
        "analytics/log.html",
        {"library": log.library, "log": log, "days": days, "colours": LOG_STATUS_COLOURS},
    )


@login_required
def renewal_view(request: HttpRequest) -> HttpResponse:
    """The renewal plan's form. The plan itself (a MILP over every priced resource) is solved by
    a background job (issue 16, part 3): posting the form starts it; its page, XLSX or PDF is
    the outcome, for the user who asked only."""
    library = staff_library(request)
    today = timezone.localdate()
    initial = {
        "cut": 20,
        "start": today.replace(year=today.year - 1),
        "end": today,
        "denial_weight": 0.5,
    }
    if request.method == "POST":
        form = RenewalForm(request.POST, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            fmt = request.POST.get("format", "")
            job = jobs.start(
                library=library,
                kind=RENEWAL,
                user=request.user,
                title=_("Renewal plan"),
                params={
                    "cut": data["cut"],
                    "start": data["start"].isoformat(),
                    "end": data["end"].isoformat(),
                    "denial_weight": data["denial_weight"],
                    "format": fmt if fmt in PLAN_FORMATS else "",
                },
            )
            return redirect(jobs.url(job))
    else:
        # A link with the figures (?cut=...) fills the form in; the plan is made on posting it.
        form = RenewalForm(request.GET if "cut" in request.GET else None, initial=initial)
    return render(
        request,
        "analytics/renewal.html",
        {"library": library, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_safe
def renewal_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """A solved plan: the job's outcome page, shown to the user who asked for it only."""
    job = owned_job(request, pk, RENEWAL)
    if job.status != JobStatus.DONE or "html" not in job.result:
        raise Http404
    params = {k: job.params.get(k) for k in ("cut", "start", "end", "denial_weight")}
    return render(
        request,
        "analytics/renewal.html",
        {
            "library": job.library,
            "form": RenewalForm(initial=params),
            "job": job,
            "params": params,
            # Our own template's output, rendered by the job with every value escaped.
            "body": mark_safe(str(job.result["html"])),  # noqa: S308
            "problems": job.result.get("problems") or [],
            "downloads": [("xlsx", _("Download XLSX")), ("pdf", _("Download PDF"))],
        },
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    start, end = last_year(timezone.localdate())
    try:
        start = dt.date.fromisoformat(request.GET.get("start") or start.isoformat())
        end = dt.date.fromisoformat(request.GET.get("end") or end.isoformat())
    except ValueError:
        messages.error(request, _("Dates must read yyyy-mm-dd."))
    if end < start:
        start, end = end, start
    return start, end


def _emergencies(library: Library) -> list[dict[str, object]]:
    """Recent real emergencies as periods to compare with the year before (drills left out)."""
    try:
        from lifeline.emergency.models import Event
    except ImportError:
        return []
    today = timezone.localdate()
    return [
        {
            "label": f"{timezone.localdate(e.declared_at):%Y-%m-%d} {e.get_category_display()}",
            "start": timezone.localdate(e.declared_at),
            "end": timezone.localdate(e.closed_at) if e.closed_at else today,
        }
        for e in Event.objects.filter(library=library).real().order_by("-declared_at")[:5]
    ]


@login_required
def charts_view(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    start, end = _period(request)
    data = figures(library, start, end)
    rows = value.cost_per_use(library, start, end)
    comparison = value.emergency_comparison(library, start, end)
    unheld = value.unheld_demand(library, start, end)
    resources = list(
        Resource.objects.filter(library=library, is_active=True).order_by("name").only("pk", "name")
    )
    chosen = next((r for r in resources if str(r.pk) == request.GET.get("resource")), None)
    if request.GET.get("format") == "xlsx":
        return _xlsx_response(
            xlsx_bytes(
                exports.dashboard_sheets(
                    data, rows, comparison, unheld, chosen, library, start, end
                )
            ),
            "usage-value.xlsx",
        )
    charts = [data["month_chart"], data["top_chart"], data["vendor_chart"], data["category_chart"]]
    return render(
        request,
        "analytics/charts.html",
        {
            "library": library,
            "start": start,
            "end": end,
            "charts": charts,
            "data": data,
            "total": data["total"],
            "off_campus_share": data["off_campus_share"],
            "off_campus_percent": data["off_campus_percent"],
            "value": rows,
            "comparison": comparison,
            "unheld": unheld,
            "resources": resources,
            "chosen": chosen,
            "resource_chart": resource_chart(library, chosen, start, end) if chosen else None,
            "emergencies": _emergencies(library),
        },
    )


@login_required
def titles_view(request: HttpRequest) -> HttpResponse:
    """COUNTER titles matched to resources through KBART: the match rate, the titles no KBART
    list holds (most used first), and a button to match again after a KBART list changed."""
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        summary = match_titles(library)
        messages.success(
            request,
            _(
                "%(matched)s of %(items)s titles are held by a KBART list "
                "(%(added)s holdings added, %(removed)s removed)."
            )
            % {
                "matched": summary.matched,
                "items": summary.items,
                "added": summary.added,
                "removed": summary.removed,
            },
        )
        return redirect(_back("analytics:titles", library))
    if request.GET.get("format") == "xlsx":
        return _xlsx_response(
            xlsx_bytes(exports.unmatched_sheets(unmatched_titles(library, limit=None))),
            "unmatched-titles.xlsx",
        )
    return render(
        request,
        "analytics/titles.html",
        {
            "library": library,
            "can_change": can_change,
            "match": title_match_rate(library),
            "unmatched": unmatched_titles(library),
        },
    )


@login_required
def rates_view(request: HttpRequest) -> HttpResponse:
    """Dated exchange rates: prices are converted to CNY at the rate of their own date."""
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    form = ExchangeRateForm(request.POST or None, library=library)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if "delete" in request.POST:
            get_object_or_404(
                ExchangeRate, pk=parse_id(request.POST["delete"]), library=library
            ).delete()
            messages.success(request, _("Exchange rate deleted."))
            return redirect(_back("analytics:rates", library))
        if form.is_valid():
            form.save()
            messages.success(request, _("Exchange rate saved."))
            return redirect(_back("analytics:rates", library))
    return render(
        request,
        "analytics/rates.html",
        {
            "library": library,
            "can_change": can_change,
            "form": form,
            "rates": ExchangeRate.objects.filter(library=library),
        },
        status=400 if form.errors else 200,
    )
