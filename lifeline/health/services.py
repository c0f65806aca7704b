"""The functions other apps call, and the page-level queries of Access health.

- `current_states(route_ids)`: for patron pages, one query.
- `raise_suspected_fault(resource, reason=..., evidence=...)`: the analytics usage-drop hook.
- `incidents_between(library, start, end)`: the emergency after-action review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.health.choices import STATE_RANK, EventKind, HealthState, IncidentKind, IncidentStatus
from lifeline.health.logic import incidents as incident_logic
from lifeline.health.logic.uptime import overview
from lifeline.health.models import Incident, IncidentEvent, MaintenanceWindow, ProbeConfig
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


def status_overview(
    library: Library, now: dt.datetime | None = None, *, days: int = 30
) -> dict[str, Any]:
    """Everything the public status page, its feed and its JSON show: a fixed number of queries."""
    now = now or timezone.now()
    resources = list(
        Resource.objects.filter(library=library, is_active=True)
        .prefetch_related("routes__probe")
        .order_by("name")
    )
    # Planned work is shown as such, so patrons do not report it as a fault.
    maintenance = set(
        MaintenanceWindow.objects.filter(
            config__route__resource__library=library, starts_at__lte=now, ends_at__gt=now
        ).values_list("config__route_id", flat=True)
    )
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
    open_incidents = list(
        Incident.objects.filter(library=library)
        .exclude(status=IncidentStatus.RESOLVED)
        .select_related("resource", "route")
        .prefetch_related(
            Prefetch(
                "events", queryset=IncidentEvent.objects.filter(public=True).order_by("at", "id")
            )
        )
    )
    recent = list(
        Incident.objects.filter(
            library=library,
            status=IncidentStatus.RESOLVED,
            closed_at__gte=now - dt.timedelta(days=7),
        )
        .select_related("resource", "route")
        .prefetch_related(
            Prefetch(
                "events", queryset=IncidentEvent.objects.filter(public=True).order_by("at", "id")
            )
        )[:20]
    )
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in HealthState.values}
    return {
        "rows": rows,
        "open_incidents": open_incidents,
        "recent_incidents": recent,
        "counts": counts,
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
    "raise_suspected_fault",
    "status_overview",
    "vendor_response_stats",
]
