"""The service report page, its XLSX and Word exports, and saving the edited summary."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from lifeline.core import jobs
from lifeline.core.access import library_for
from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.permissions import library_ids_for
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.emergency.counts import Span, event_spans
from lifeline.reports import consortium as consortium_logic
from lifeline.reports import exports, services
from lifeline.reports.forms import NarrativeForm, PeriodForm
from lifeline.reports.jobs import PDF

ACTION = "reports.view"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _library(request: HttpRequest, code: str) -> Library:
    return library_for(request, code, ACTION)  # the one resolver (issue 21): 403 to outsiders


def _period(
    request: HttpRequest, spans: list[Span]
) -> tuple[PeriodForm, dt.date, dt.date, int | None]:
    """An event's span (`?event=`), else the dates given, else the latest event, else this year."""
    form = PeriodForm(request.GET if "start" in request.GET else None)
    chosen = request.GET.get("event", "")
    span = next((s for s in spans if str(s.event_id) == chosen), None)
    if span is None and form.is_bound and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"], None
    if span is None and spans and not form.is_bound:
        span = spans[0]
    if span is not None:
        form = PeriodForm(initial={"start": span.start, "end": span.end})
        return form, span.start, span.end, span.event_id
    today = timezone.localdate()
    if not form.is_bound:
        form = PeriodForm(initial={"start": today.replace(month=1, day=1), "end": today})
    return form, today.replace(month=1, day=1), today, None


@login_required
def report(request: HttpRequest, library: str) -> HttpResponse:
    lib = _library(request, library)
    if request.method == "POST":
        posted = NarrativeForm(request.POST)
        if not posted.is_valid():
            return HttpResponse(posted.errors.as_text(), status=400, content_type="text/plain")
        data = posted.cleaned_data
        built = services.build(lib, data["start"], data["end"])
        services.save_narrative(built, data["text"], request.user)
        query = urlencode({"start": data["start"].isoformat(), "end": data["end"].isoformat()})
        return redirect(f"{request.path}?{query}")
    spans = event_spans(lib)
    form, start, end, event_id = _period(request, spans)
    built = services.build(lib, start, end)
    fmt = request.GET.get("format")
    if fmt == "pdf":  # a link (the monthly e-mail's): the PDF is made by a background job
        query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
        return redirect(f"{reverse('reports:pdf', args=[lib.code])}?{query}")
    if fmt in ("xlsx", "docx"):
        body, mime = {
            "xlsx": (exports.xlsx, XLSX),
            "docx": (exports.docx, DOCX),
        }[fmt]
        response = HttpResponse(body(built), content_type=mime)
        response["Content-Disposition"] = (
            f'attachment; filename="report-{lib.code}-{start}-{end}.{fmt}"'
        )
        return response
    h1, h2, h3 = exports.headers()
    return render(
        request,
        "reports/report.html",
        {
            "library": lib,
            "form": form,
            "spans": spans,
            "event_id": event_id,
            "report": built,
            "title": exports.title(built),
            "narrative_form": NarrativeForm(
                initial={"start": start, "end": end, "text": built.narrative}
            ),
            "h1": h1,
            "h2": h2,
            "h3": h3,
            "t1": exports.table1_rows(built),
            "t2": exports.table2_rows(built),
            "t3": exports.table3_rows(built),
            "chart": bar_chart(
                [f.label for f in built.table3[:10]],
                [float(f.figure or 0) for f in built.table3[:10]],
            )
            if built.table3
            else "",
            "query": urlencode({"start": start.isoformat(), "end": end.isoformat()}),
        },
    )


@login_required
def report_pdf(request: HttpRequest, library: str) -> HttpResponse:
    """The report as PDF (issue 16, part 3): GET asks (a link from the e-mail lands here), POST
    starts the background job whose outcome is the file, for this user only."""
    lib = _library(request, library)
    form = PeriodForm(request.POST if request.method == "POST" else request.GET)
    if request.method == "POST" and form.is_valid():
        job = jobs.start(
            library=lib,
            kind=PDF,
            user=request.user,
            title=_("Service report (PDF)"),
            params={
                "start": form.cleaned_data["start"].isoformat(),
                "end": form.cleaned_data["end"].isoformat(),
            },
        )
        return redirect(jobs.url(job))
    status = 400 if request.method == "POST" else 200
    return render(request, "reports/pdf.html", {"library": lib, "form": form}, status=status)


CONSORTIUM = "reports.view_consortium"


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """`/reports/`: the consortium report for a consortium-level role; otherwise the report of
    the (first) library whose report the user may see."""
    if request.user.has_perm(CONSORTIUM):
        return consortium(request)
    ids = library_ids_for(request.user, ACTION)
    lib = Library.objects.filter(pk__in=ids).order_by("code").first()
    if lib is None:
        raise PermissionDenied
    return redirect("reports:report", library=lib.code)


def consortium(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET if "start" in request.GET else None)
    today = timezone.localdate()
    start, end = today.replace(month=1, day=1), today
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif not form.is_bound:
        form = PeriodForm(initial={"start": start, "end": end})
    libraries = list(Library.objects.order_by("code"))
    built = consortium_logic.build(libraries, start, end)
    header, rows = consortium_logic.table(built)
    if request.GET.get("format") == "xlsx":
        body = xlsx_bytes({_("Consortium"): (header, rows)})
        response = HttpResponse(body, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="consortium-{start}-{end}.xlsx"'
        return response
    return render(
        request,
        "reports/consortium.html",
        {
            "form": form,
            "report": built,
            "header": header,
            "rows": rows,
            "query": urlencode({"start": start.isoformat(), "end": end.isoformat()}),
            "chart": bar_chart(
                [str(lib) for lib in libraries],
                consortium_logic.column(built, "delivery", "requested"),
            )
            if libraries
            else "",
        },
    )
