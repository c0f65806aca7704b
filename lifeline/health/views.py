"""Pages of Access health: the public status page (feed, JSON), fault reports, the vendor's reply
page, and the staff pages for incidents and probe settings. Thin: logic lives in services/logic."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from lifeline.core.access import PUBLIC, library_for
from lifeline.core.clientip import client_ip
from lifeline.core.models import Library
from lifeline.core.params import parse_id
from lifeline.core.permissions import user_can
from lifeline.core.ratelimit import exempt_address
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.core.views import default_library
from lifeline.health import services
from lifeline.health.choices import (
    EVENT_COLOURS,
    INCIDENT_STATUS_COLOURS,
    STATE_COLOURS,
    HealthState,
    IncidentStatus,
)
from lifeline.health.forms import (
    FaultReportForm,
    MaintenanceWindowForm,
    NoteForm,
    ProbeConfigForm,
    sniff_image,
)
from lifeline.health.logic import incidents as incident_logic
from lifeline.health.models import Escalation, FaultReport, Incident, MaintenanceWindow, ProbeConfig
from lifeline.registry.models import AccessRoute

STAFF_PAGE = 50


def _library(request: HttpRequest, code: str) -> Library:
    # The status page, its feeds, public incidents and the fault-report form are public
    # (anyone may read them and report a fault); staff pages use _staff_library.
    return library_for(request, code, PUBLIC)


def _colours() -> dict[str, Any]:
    return {
        "state_colours": STATE_COLOURS,
        "status_colours": INCIDENT_STATUS_COLOURS,
        "event_colours": EVENT_COLOURS,
    }


# --- public ---------------------------------------------------------------------------------


def status_home(request: HttpRequest) -> HttpResponse:
    """`/status/`, the address people type or print on a notice: this site's library's page."""
    library = default_library()
    if library is None:
        raise Http404
    return redirect("health:page", code=library.code)


# The table of resources is cached per version (health.services.table_version): its uptime
# sweep and 30-day bars were most of the page's cost under the surge (bench surge). One entry
# per library and language, the version inside: a new version replaces the entry instead of
# adding one, so the per-process cache holds two tables per library, not one per minute.
TABLE_SECONDS = 24 * 3600


@require_safe
def status_page(request: HttpRequest, code: str) -> HttpResponse:
    library = _library(request, code)
    now = timezone.now()
    language = translation.get_language() or settings.LANGUAGE_CODE
    version, maintenance = services.table_version(library, now)
    key = f"health:status-table:{library.pk}:{language}"
    cached: tuple[str, str, dict[str, int]] | None = cache.get(key)
    if cached is None or cached[0] != version:
        rows = services.resource_rows(library, now, maintenance=maintenance)
        html = render_to_string(
            "health/_status_table.html",
            {"library": library, "rows": rows, **_colours(), "states": HealthState},
        )
        cached = (version, html, services.state_counts(rows))
        cache.set(key, cached, TABLE_SECONDS)
    return render(
        request,
        "health/status.html",
        {
            "library": library,
            "now": now,
            # Rendered by our own template above (every value escaped), the same for everyone.
            "table_html": mark_safe(cached[1]),  # noqa: S308
            "counts": cached[2],
            **services.public_incidents(library, now),
            **_colours(),
        },
    )


@require_safe
def status_json(request: HttpRequest, code: str) -> JsonResponse:
    library = _library(request, code)
    o = services.status_overview(library)

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    data = {
        "library": library.code,
        "name": library.display_name,
        "generated_at": o["now"].isoformat(),
        "resources": [
            {
                "key": row["resource"].key,
                "name": row["resource"].display("name"),
                "state": row["state"],
                "uptime": row["uptime"],
                "routes": [
                    {
                        "id": r["route"].pk,
                        "kind": r["route"].kind,
                        "state": r["state"],
                        "since": iso(r["since"]),
                        "checked_at": iso(r["checked"]),
                        "response_ms": r["response_ms"],
                        "maintenance": r["maintenance"],
                    }
                    for r in row["routes"]
                ],
            }
            for row in o["rows"]
        ],
        "incidents": [
            {
                "id": i.pk,
                "resource": i.resource.key,
                "route": i.route_id,
                "kind": i.kind,
                "status": i.status,
                "cause": i.cause,
                "opened_at": iso(i.opened_at),
                "closed_at": iso(i.closed_at),
                "timeline": [
                    {"at": iso(e.at), "kind": e.kind, "text": e.text} for e in i.events.all()
                ],
            }
            for i in o["open_incidents"] + o["recent_incidents"]
        ],
    }
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@require_safe
def status_feed(request: HttpRequest, code: str) -> HttpResponse:
    library = _library(request, code)
    page = request.build_absolute_uri(reverse("health:page", args=[code]))
    feed = Atom1Feed(
        title=_("Access status: %(library)s") % {"library": library.display_name},
        link=page,
        description="",
        language=getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
        feed_url=request.build_absolute_uri(),
    )
    incidents = (
        Incident.objects.filter(
            library=library, opened_at__gte=timezone.now() - dt.timedelta(days=30)
        )
        .select_related("resource", "route")
        .prefetch_related("events")[:50]
    )
    for i in incidents:
        events = [e for e in i.events.all() if e.public]
        lines = [
            f"{timezone.localtime(e.at):%Y-%m-%d %H:%M} {e.get_kind_display()} {e.text}".strip()
            for e in events
        ]
        state = _("resolved") if i.status == IncidentStatus.RESOLVED else _("open")
        feed.add_item(
            title=f"[{state}] {i.resource.display('name')}: {i.get_kind_display()}",
            link=request.build_absolute_uri(reverse("health:incident", args=[code, i.pk])),
            description="\n".join(lines),
            unique_id=f"lifeline-incident-{library.code}-{i.pk}",
            pubdate=i.opened_at,
            updateddate=max([e.at for e in events] or [i.opened_at]),
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


@require_safe
def incident_public(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    library = _library(request, code)
    incident = get_object_or_404(
        Incident.objects.select_related("resource", "route"), library=library, pk=pk
    )
    events = incident.events.filter(public=True)
    return render(
        request,
        "health/incident_public.html",
        {"library": library, "incident": incident, "events": events, **_colours()},
    )


def client_address(request: HttpRequest) -> str | None:
    # Through the trusted proxy header, as the sign-in lock-out does (issue 21).
    return client_ip(request)


def report(request: HttpRequest, code: str) -> HttpResponse:
    """Works without JavaScript: a plain form, a plain POST, a thank-you page."""
    library = _library(request, code)
    initial = {k: pk for k in ("resource", "route") if (pk := parse_id(request.GET.get(k)))}
    if request.method != "POST":
        return render(
            request,
            "health/report.html",
            {"library": library, "form": FaultReportForm(library, initial=initial)},
        )
    form = FaultReportForm(library, request.POST, request.FILES)
    address = client_address(request)
    limit = int(getattr(settings, "HEALTH_REPORTS_PER_HOUR", 5))
    recent = FaultReport.objects.filter(
        address=address, created_at__gte=timezone.now() - dt.timedelta(hours=1)
    ).count()
    # A campus's NAT egress addresses (the library's rate-limit exemptions) are many patrons.
    if address and recent >= limit and not exempt_address(address, library.code):
        form.add_error(
            None,
            _(
                "Too many reports from your network in the last hour (limit %(limit)d). Please try again later."  # noqa: E501
            )
            % {"limit": limit},
        )
        return render(request, "health/report.html", {"library": library, "form": form}, status=429)
    if form.is_spam:
        # Look like success to the robot; store nothing.
        return render(request, "health/report_thanks.html", {"library": library, "incident": None})
    if not form.is_valid():
        return render(request, "health/report.html", {"library": library, "form": form}, status=400)
    d = form.cleaned_data
    rep = incident_logic.file_report(
        resource=d["resource"],
        route=d["route"],
        description=d["description"],
        contact_name=d["contact_name"],
        contact_email=d["contact_email"],
        screenshot=d["screenshot"],
        language=getattr(request, "LANGUAGE_CODE", "zh-hans"),
        user=request.user,
        address=address,
    )
    return render(
        request,
        "health/report_thanks.html",
        {"library": library, "incident": rep.incident, "report": rep},
    )


def vendor_reply(request: HttpRequest, token: str) -> HttpResponse:
    """The vendor answers from the link in the escalation e-mail: the token is the key."""
    escalation = get_object_or_404(
        Escalation.objects.select_related("incident__resource", "incident__library", "vendor"),
        token=token,
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "ack":
            incident_logic.vendor_acknowledged(escalation)
        elif action == "resolved":
            incident_logic.vendor_resolved(escalation)
        else:
            return HttpResponse(_("Unknown action."), status=400)
        return redirect(request.path)
    return render(
        request,
        "health/vendor_reply.html",
        {
            "escalation": escalation,
            "incident": escalation.incident,
            "library": escalation.incident.library,
        },
    )


# --- staff ----------------------------------------------------------------------------------


def _staff_library(
    request: HttpRequest, code: str, action: str = "view", write: str | None = None
) -> Library:
    return library_for(request, code, action, write=write)


@login_required
def staff_incidents(request: HttpRequest, code: str) -> HttpResponse:
    library = _staff_library(request, code)
    status = request.GET.get("status", "")
    qs = (
        Incident.objects.restrict(request.user)
        .filter(library=library)
        .select_related("resource", "route", "resource__vendor")
    )
    if status in IncidentStatus.values:
        qs = qs.filter(status=status)
    elif status != "all":
        qs = qs.exclude(status=IncidentStatus.RESOLVED)
    qs = qs.annotate(
        report_count=Count("reports", distinct=True),
        escalation_count=Count("escalations", distinct=True),
    )
    if request.GET.get("format") == "xlsx":
        header = [
            _("Number"),
            _("Resource"),
            _("Route"),
            _("Kind"),
            _("Status"),
            _("Opened"),
            _("Closed"),
            _("Cause"),
            _("Reports"),
        ]
        rows = [
            [
                i.pk,
                str(i.resource),
                i.route.get_kind_display() if i.route else "",
                i.get_kind_display(),
                i.get_status_display(),
                timezone.localtime(i.opened_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(i.closed_at).strftime("%Y-%m-%d %H:%M") if i.closed_at else "",
                i.cause,
                i.report_count,
            ]
            for i in qs[:5000]
        ]
        response = HttpResponse(
            xlsx_bytes({_("Incidents"): (header, rows)}),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="incidents-{library.code}.xlsx"'
        return response
    problem_routes = (
        ProbeConfig.objects.filter(route__resource__library=library, enabled=True)
        .filter(Q(state=HealthState.DOWN) | Q(state=HealthState.DEGRADED))
        .select_related("route__resource")
    )
    return render(
        request,
        "health/staff_incidents.html",
        {
            "library": library,
            "incidents": qs[:STAFF_PAGE],
            "status": status,
            "statuses": IncidentStatus,
            "problem_routes": problem_routes,
            **_colours(),
        },
    )


@login_required
def staff_incident(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    library = _staff_library(request, code, write="health.change")
    incident = get_object_or_404(
        Incident.objects.restrict(request.user).select_related("resource__vendor", "route__probe"),
        library=library,
        pk=pk,
    )
    can_change = user_can(request.user, library, "health.change")
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        _act(request, incident)
        return redirect(request.path)
    evidence = incident.route.probe_results.all()[:10] if incident.route else []
    return render(
        request,
        "health/staff_incident.html",
        {
            "library": library,
            "incident": incident,
            "events": incident.events.select_related("user"),
            "reports": incident.reports.all(),
            "escalations": incident.escalations.select_related("vendor"),
            "evidence": evidence,
            "can_change": can_change,
            "note_form": NoteForm(),
            "now": timezone.now(),
            **_colours(),
        },
    )


@login_required
@require_safe
def screenshot(request: HttpRequest, code: str, pk: int) -> HttpResponseBase:
    """A fault report's screenshot, to staff of its library only, never from /media/ (issue 21):
    the type is sniffed from the stored bytes, the browser may not guess another, and it is
    downloaded rather than shown in our origin."""
    library = _staff_library(request, code)
    report = get_object_or_404(
        FaultReport.objects.restrict(request.user).exclude(screenshot=""), library=library, pk=pk
    )
    try:
        handle = report.screenshot.open("rb")
    except OSError as exc:
        raise Http404 from exc
    kind = sniff_image(handle.read(16)) or "application/octet-stream"
    handle.seek(0)
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
    response = FileResponse(
        handle,
        content_type=kind,
        as_attachment=True,
        filename=f"screenshot-{report.pk}.{ext.get(kind, 'bin')}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _act(request: HttpRequest, incident: Incident) -> None:
    action = request.POST.get("action", "")
    try:
        if action == "acknowledge":
            incident_logic.acknowledge(incident, request.user)
            messages.success(request, _("Incident acknowledged."))
        elif action == "resolve":
            incident_logic.resolve(incident, user=request.user, note=request.POST.get("text", ""))
            messages.success(request, _("Incident resolved; reporters will be told."))
        elif action == "escalate":
            esc = incident_logic.escalate(incident, user=request.user)
            messages.success(
                request, _("Message queued to %(to)s.") % {"to": ", ".join(esc.recipients)}
            )
        elif action == "note":
            form = NoteForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Write a note first."))
            incident_logic.add_note(
                incident,
                request.user,
                form.cleaned_data["text"],
                public=form.cleaned_data["public"],
            )
        elif action in {"vendor_ack", "vendor_resolved"}:
            esc = get_object_or_404(
                incident.escalations, pk=parse_id(request.POST.get("escalation"))
            )
            if action == "vendor_ack":
                incident_logic.vendor_acknowledged(esc, user=request.user)
            else:
                incident_logic.vendor_resolved(esc, user=request.user)
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))


@login_required
def probe_config(request: HttpRequest, code: str, route_id: int) -> HttpResponse:
    library = _staff_library(request, code, "health.change")
    route = get_object_or_404(
        AccessRoute.objects.select_related("resource"), resource__library=library, pk=route_id
    )
    config = ProbeConfig.for_route(route)
    form = ProbeConfigForm(instance=config, user=request.user)
    window_form = MaintenanceWindowForm()
    if request.method == "POST":
        if request.POST.get("action") == "window":
            window_form = MaintenanceWindowForm(
                request.POST, instance=MaintenanceWindow(config=config)
            )
            if window_form.is_valid():
                window_form.save()
                messages.success(request, _("Maintenance window added."))
                return redirect(request.path)
        elif request.POST.get("action") == "delete_window":
            window = parse_id(request.POST.get("window"))
            if window is not None:  # anything else names no window (and must not be a 500)
                config.maintenance_windows.filter(pk=window).delete()
            return redirect(request.path)
        else:
            form = ProbeConfigForm(request.POST, instance=config, user=request.user)
            if form.is_valid():
                form.instance.next_probe_at = timezone.now()  # new settings take effect at once
                form.save()
                messages.success(request, _("Probe settings saved."))
                return redirect(request.path)
    return render(
        request,
        "health/probe_config.html",
        {
            "library": library,
            "route": route,
            "config": config,
            "form": form,
            "window_form": window_form,
            "windows": config.maintenance_windows.all(),
            "results": route.probe_results.all()[:10],
            "flips": route.flips.order_by("-at")[:10],
            **_colours(),
        },
    )


@login_required
@require_POST
def probe_now(request: HttpRequest, code: str, route_id: int) -> HttpResponse:
    """Make the route due at once; the prober takes it on its next tick."""
    library = _staff_library(request, code, "health.change")
    route = get_object_or_404(AccessRoute, resource__library=library, pk=route_id)
    ProbeConfig.for_route(route)
    ProbeConfig.objects.filter(route=route).update(next_probe_at=timezone.now())
    messages.success(request, _("The route will be probed within a few seconds."))
    return redirect("health:probe_config", code, route_id)
