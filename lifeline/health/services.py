"""The functions other apps call, and the page-level queries of Access health.

- `current_states(route_ids)`: for patron pages, one query.
- `raise_suspected_fault(resource, reason=..., evidence=...)`: the analytics usage-drop hook.
- `incidents_between(library, start, end)`: the emergency after-action review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.health.choices import STATE_RANK, EventKind, HealthState, IncidentKind, IncidentStatus
from lifeline.health.logic import incidents as incident_logic
from lifeline.health.logic.uptime import overview
from lifeline.health.models import Flip, Incident, IncidentEvent, MaintenanceWindow, ProbeConfig
from lifeline.registry.models import Resource


def current_states(route_ids: list[int]) -> dict[int, str]:
    """ "up" / "degraded" / "down" / "unknown" for each route id, in one query."""
    states = dict(
        ProbeConfig.objects.filter(route_id__in=route_ids, enabled=True).values_list(
            "route_id", "state"
        )
    )
    return {rid: states.get(rid, HealthState.UNKNOWN.value) for rid in route_ids}


def best_state(states: list[str]) -> str:
    known = [s for s in states if s != HealthState.UNKNOWN]
    return (
        min(known, key=lambda s: STATE_RANK[HealthState(s)]) if known else HealthState.UNKNOWN.value
    )


def raise_suspected_fault(resource: Resource, *, reason: str, evidence: dict[str, Any]) -> Incident:
    """Open (or join) a suspected-fault incident: probes say up, but patrons' use collapsed."""
    incident, _opened = incident_logic.open_or_join(
        resource,
        None,
        kind=IncidentKind.SUSPECTED,
        cause=reason,
        event_text=reason,
        data=evidence,
    )
    return incident


def incidents_between(
    library: Library, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Incidents of the library that overlapped [start, end), oldest first."""
    qs = (
        Incident.objects.filter(library=library, opened_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .select_related("resource", "route")
        .order_by("opened_at", "pk")
    )
    now = timezone.now()
    return [
        {
            "resource": i.resource,
            "route": i.route,
            "kind": i.kind,
            "opened_at": i.opened_at,
            "closed_at": i.closed_at,
            "duration_seconds": int(i.duration(now).total_seconds()),
            "cause": i.cause,
        }
        for i in qs
    ]


# The status page shows each open incident's latest public events; readers' fault reports are
# counted, not listed: during a surge one incident gathers hundreds of them, and listing every
# one made the page grow with the surge (0.8 MB and 2.9 s at 1,000 reports, bench surge).
TIMELINE_SHOWN = 5


def _maintenance(library: Library, now: dt.datetime) -> set[int]:
    """Routes under planned work now: shown as such, so patrons do not report it as a fault."""
    return set(
        MaintenanceWindow.objects.filter(
            config__route__resource__library=library, starts_at__lte=now, ends_at__gt=now
        ).values_list("config__route_id", flat=True)
    )


def resource_rows(
    library: Library,
    now: dt.datetime | None = None,
    *,
    days: int = 30,
    maintenance: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Every monitored resource with its routes' states, uptime and daily bars (a fixed number
    of queries; the uptime sweep is the page's costly part, cached by `table_version`)."""
    now = now or timezone.now()
    resources = list(
        Resource.objects.filter(library=library, is_active=True)
        .prefetch_related("routes__probe")
        .order_by("name")
    )
    if maintenance is None:
        maintenance = _maintenance(library, now)
    groups: dict[int, list[int]] = {}
    rows: list[dict[str, Any]] = []
    for resource in resources:
        routes = [
            r
            for r in resource.routes.all()
            if r.is_active and hasattr(r, "probe") and r.probe.enabled
        ]
        if not routes:
            continue
        groups[resource.pk] = [r.pk for r in routes]
        route_rows = [
            {
                "route": r,
                "state": r.probe.state,
                "since": r.probe.state_since,
                "checked": r.probe.last_checked_at,
                "response_ms": r.probe.last_response_ms,
                "maintenance": r.pk in maintenance,
            }
            for r in routes
        ]
        rows.append(
            {
                "resource": resource,
                "routes": route_rows,
                "state": best_state([r["state"] for r in route_rows]),
            }
        )
    table, bars = overview(groups, now, days) if groups else ({}, {})
    for row in rows:
        row["bars"] = bars.get(row["resource"].pk, [])
        row["uptime"] = table.get(row["resource"].pk, {})
    return rows


def state_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for r in rows if r["state"] == s) for s in HealthState.values}


def table_version(library: Library, now: dt.datetime) -> tuple[str, set[int]]:
    """Everything the table of resources depends on, in three small queries: the registry's
    version (routes, names, switched off), each probe's switch and state, the last flip (the
    uptime figures), the routes under maintenance now, and the minute (uptime moves with time).
    A change to any of them shows on the next request; no invalidation needed. Returns the
    version and the routes under maintenance (for `resource_rows` on a miss)."""
    probes = list(
        ProbeConfig.objects.filter(route__resource__library=library)
        .order_by("route_id")
        .values_list("route_id", "enabled", "state")
    )
    last_flip = Flip.objects.filter(route__resource__library=library).aggregate(m=Max("id"))["m"]
    maintenance = _maintenance(library, now)
    digest = hashlib.sha256(repr((probes, last_flip, sorted(maintenance))).encode()).hexdigest()
    stamp = library.registry_changed_at.timestamp()
    minute = int(now.timestamp()) // 60
    return f"{stamp:.6f}:{minute}:{digest[:32]}", maintenance


def public_incidents(library: Library, now: dt.datetime | None = None) -> dict[str, Any]:
    """The status page's incidents in a fixed number of queries, however many reports came in:
    each open incident with its latest TIMELINE_SHOWN public events other than readers' reports
    (`shown_events`, `earlier_events`), the count and time of those reports (`report_count`,
    `last_report_at`); the incidents resolved in the last 7 days (without timelines)."""
    now = now or timezone.now()
    public = IncidentEvent.objects.filter(public=True)
    open_incidents = list(
        Incident.objects.filter(library=library)
        .exclude(status=IncidentStatus.RESOLVED)
        .select_related("resource", "route")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=public.exclude(kind=EventKind.REPORT).order_by("at", "id"),
                to_attr="public_events",
            )
        )
    )
    reports = {
        row["incident_id"]: row
        for row in public.filter(incident__in=open_incidents, kind=EventKind.REPORT)
        .values("incident_id")
        .annotate(n=Count("id"), last=Max("at"))
    }
    for incident in open_incidents:
        events = incident.public_events
        incident.shown_events = events[-TIMELINE_SHOWN:]  # type: ignore[attr-defined]
        incident.earlier_events = max(0, len(events) - TIMELINE_SHOWN)  # type: ignore[attr-defined]
        row = reports.get(incident.pk)
        incident.report_count = row["n"] if row else 0  # type: ignore[attr-defined]
        incident.last_report_at = row["last"] if row else None  # type: ignore[attr-defined]
    recent = list(
        Incident.objects.filter(
            library=library,
            status=IncidentStatus.RESOLVED,
            closed_at__gte=now - dt.timedelta(days=7),
        ).select_related("resource", "route")[:20]
    )
    return {"open_incidents": open_incidents, "recent_incidents": recent}


def status_overview(
    library: Library, now: dt.datetime | None = None, *, days: int = 30
) -> dict[str, Any]:
    """Everything the status JSON shows, with every public event: a fixed number of queries."""
    now = now or timezone.now()
    rows = resource_rows(library, now, days=days)
    events = Prefetch(
        "events", queryset=IncidentEvent.objects.filter(public=True).order_by("at", "id")
    )
    open_incidents = list(
        Incident.objects.filter(library=library)
        .exclude(status=IncidentStatus.RESOLVED)
        .select_related("resource", "route")
        .prefetch_related(events)
    )
    recent = list(
        Incident.objects.filter(
            library=library,
            status=IncidentStatus.RESOLVED,
            closed_at__gte=now - dt.timedelta(days=7),
        )
        .select_related("resource", "route")
        .prefetch_related(events)[:20]
    )
    return {
        "rows": rows,
        "open_incidents": open_incidents,
        "recent_incidents": recent,
        "counts": state_counts(rows),
        "now": now,
    }


def vendor_response_stats(
    library: Library, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per vendor: escalations, mean hours to acknowledge and to resolve, late answers."""
    from lifeline.health.models import Escalation

    now = timezone.now()
    qs = Escalation.objects.filter(incident__library=library).select_related("vendor")
    if since is not None:
        qs = qs.filter(sent_at__gte=since)
    stats: dict[int, dict[str, Any]] = {}
    for esc in qs:
        row = stats.setdefault(
            esc.vendor_id,
            {"vendor": esc.vendor, "count": 0, "ack": [], "resolve": [], "late": 0, "waiting": 0},
        )
        row["count"] += 1
        if esc.acknowledged_at:
            row["ack"].append((esc.acknowledged_at - esc.sent_at).total_seconds() / 3600)
            if esc.acknowledged_at > esc.due_at:
                row["late"] += 1
        elif now > esc.due_at:
            row["late"] += 1
            row["waiting"] += 1
        else:
            row["waiting"] += 1
        if esc.resolved_at:
            row["resolve"].append((esc.resolved_at - esc.sent_at).total_seconds() / 3600)
    out = []
    for row in stats.values():
        row["mean_ack_hours"] = sum(row["ack"]) / len(row["ack"]) if row["ack"] else None
        row["mean_resolve_hours"] = (
            sum(row["resolve"]) / len(row["resolve"]) if row["resolve"] else None
        )
        row["promised_hours"] = row["vendor"].response_hours
        out.append(row)
    return sorted(out, key=lambda r: str(r["vendor"]))


__all__ = [
    "EventKind",
    "best_state",
    "current_states",
    "incidents_between",
    "public_incidents",
    "raise_suspected_fault",
    "resource_rows",
    "state_counts",
    "status_overview",
    "table_version",
    "vendor_response_stats",
]
