"""Retries, state changes, incidents and uptime, driven by real probes of loopback servers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lifeline.health import services
from lifeline.health.choices import (
    EventKind,
    FailureKind,
    HealthState,
    IncidentKind,
    IncidentStatus,
)
from lifeline.health.logic.uptime import daily, term_start, uptime, uptime_table
from lifeline.health.logic.worker import probe_step
from lifeline.health.models import Flip, Incident, MaintenanceWindow, ProbeConfig, ProbeResult
from lifeline.health.tests.conftest import make_route
from lifeline.health.tests.servers import Page, Site
from lifeline.registry.models import AccessRoute, Resource

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def route(resource_a: Resource, admin_a: Any, site: Site) -> AccessRoute:
    r = make_route(
        resource_a, site.url("/"), admin=admin_a, retries=2, retry_seconds=20, interval_seconds=300
    )
    ProbeConfig.objects.filter(route=r).update(next_probe_at=T0)
    return r


def config(route: AccessRoute) -> ProbeConfig:
    return ProbeConfig.objects.get(route=route)


def test_retries_before_down_then_incident_then_recovery(route: AccessRoute, site: Site) -> None:
    assert probe_step(now=at(0)).probed == 1
    c = config(route)
    assert (c.state, c.next_probe_at, c.last_status_code) == (HealthState.UP, at(300), 200)
    assert probe_step(now=at(100)).probed == 0  # not due yet
    site.pages["/"] = Page(status=502, body=b"bad gateway")
    probe_step(now=at(300))
    c = config(route)
    assert (c.state, c.pending_state, c.pending_count, c.next_probe_at) == (
        HealthState.UP,
        HealthState.DOWN,
        1,
        at(320),
    )
    probe_step(now=at(320))
    assert config(route).state == HealthState.UP
    report = probe_step(now=at(340))
    assert report.flips == 1
    c = config(route)
    assert (c.state, c.state_since, c.last_failure) == (
        HealthState.DOWN,
        at(340),
        FailureKind.STATUS,
    )
    flip = Flip.objects.get(route=route, new=HealthState.DOWN)
    assert (flip.old, flip.at, flip.failure) == (HealthState.UP, at(340), FailureKind.STATUS)
    incident = Incident.objects.get(route=route)
    assert (incident.kind, incident.status, incident.opened_at) == (
        IncidentKind.PROBE,
        IncidentStatus.OPEN,
        at(340),
    )
    assert "502" in incident.cause
    assert (
        ProbeResult.objects.filter(route=route, state=HealthState.DOWN).count() == 3
    )  # evidence of each failure
    # Detected within one interval plus the retries.
    assert flip.at - at(300) <= dt.timedelta(seconds=300 + 2 * 20)
    # A single good answer does not close it; confirmed recovery does.
    site.pages["/"] = Page()
    for t in (640, 660, 680):
        probe_step(now=at(t))
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == (IncidentStatus.RESOLVED, at(680))
    assert [e.kind for e in incident.events.all()] == [
        EventKind.OPENED,
        EventKind.STATE,
        EventKind.RESOLVED,
    ]
    assert config(route).state == HealthState.UP


def test_a_second_outage_opens_a_new_incident_and_flapping_is_damped(
    route: AccessRoute, site: Site
) -> None:
    probe_step(now=at(0))
    site.pages["/"] = Page(status=500)
    probe_step(now=at(300))  # one failure
    site.pages["/"] = Page()
    probe_step(now=at(320))  # back: the pending change is forgotten
    c = config(route)
    assert (c.state, c.pending_state, c.pending_count) == (HealthState.UP, "", 0)
    assert not Incident.objects.exists()


def test_maintenance_window_pauses_probes(route: AccessRoute, site: Site) -> None:
    MaintenanceWindow.objects.create(
        config=config(route), starts_at=at(-10), ends_at=at(3600), note="vendor upgrade"
    )
    site.pages["/"] = Page(status=503)
    assert probe_step(now=at(0)).probed == 0
    c = config(route)
    assert (c.state, c.next_probe_at, c.lease_owner) == (HealthState.UNKNOWN, at(3600), "")
    assert site.requests == []


def test_non_admin_private_target_is_refused_by_the_probe(resource_a: Resource, site: Site) -> None:
    r = make_route(resource_a, site.url("/"))  # saved without an administrator's permission
    ProbeConfig.objects.filter(route=r).update(next_probe_at=T0)
    probe_step(now=at(0))
    c = config(r)
    assert (c.state, c.last_failure) == (HealthState.DOWN, FailureKind.FORBIDDEN_TARGET)
    assert site.requests == []


def test_current_states_one_query(
    route: AccessRoute, resource_a: Resource, django_assert_num_queries: Any
) -> None:
    other = AccessRoute.objects.create(
        resource=resource_a, kind="vpn", url="https://vpn.example.edu/"
    )
    probe_step(now=at(0))
    with django_assert_num_queries(1):
        states = services.current_states([route.pk, other.pk, 999999])
    assert states == {route.pk: "up", other.pk: "unknown", 999999: "unknown"}


def flips(route: AccessRoute, *changes: tuple[float, str]) -> None:
    old = HealthState.UNKNOWN
    for seconds, new in changes:
        Flip.objects.create(route=route, old=old, new=new, at=at(seconds))
        old = new


def test_uptime_from_flips_route_and_resource(resource_a: Resource) -> None:
    a = AccessRoute.objects.create(resource=resource_a, kind="carsi", url="https://a.example/")
    b = AccessRoute.objects.create(resource=resource_a, kind="vpn", url="https://b.example/")
    flips(a, (0, "up"), (3600, "down"), (7200, "up"))
    flips(b, (0, "up"), (5400, "down"))
    end = at(4 * 3600)
    assert uptime([a.pk], at(0), end) == pytest.approx(0.75)
    assert uptime([b.pk], at(0), end) == pytest.approx(5400 / 14400)
    # The resource is up while either route is up: down only 5400-7200, when a is down too.
    assert uptime([a.pk, b.pk], at(0), end) == pytest.approx(1 - 1800 / 14400)
    # Time before the first probe is unknown, not up.
    assert uptime([a.pk], at(-3600), at(3600)) == pytest.approx(1.0)
    table = uptime_table({resource_a.pk: [a.pk, b.pk]}, now=end)
    assert table[resource_a.pk]["24h"] == pytest.approx(1 - 1800 / 14400)
    bars = daily({resource_a.pk: [a.pk]}, now=end, days=3)[resource_a.pk]
    assert len(bars) == 3 and bars[0][1] is None and bars[-1][1] is not None


def test_term_start() -> None:
    tz = timezone.get_current_timezone()
    assert term_start(dt.datetime(2026, 10, 5, tzinfo=tz)).date() == dt.date(2026, 9, 1)
    assert term_start(dt.datetime(2026, 3, 5, tzinfo=tz)).date() == dt.date(2026, 2, 20)
    assert term_start(dt.datetime(2026, 1, 5, tzinfo=tz)).date() == dt.date(2025, 9, 1)


def test_suspected_fault_opens_once_and_is_not_closed_by_probes(resource_a: Resource) -> None:
    first = services.raise_suspected_fault(
        resource_a, reason="Use fell 90% below baseline", evidence={"today": 3, "baseline": 410}
    )
    again = services.raise_suspected_fault(
        resource_a, reason="Still low", evidence={"today": 5, "baseline": 410}
    )
    assert first.pk == again.pk and first.kind == IncidentKind.SUSPECTED and first.route is None
    assert first.events.first().data == {"today": 3, "baseline": 410}
    assert first.events.count() == 2


def test_incidents_between(resource_a: Resource, library_a: Any) -> None:
    Incident.objects.create(
        library=library_a,
        resource=resource_a,
        kind="probe",
        opened_at=at(0),
        closed_at=at(600),
        status="resolved",
        cause="HTTP 502",
    )
    Incident.objects.create(
        library=library_a,
        resource=resource_a,
        kind="report",
        opened_at=at(-90000),
        closed_at=at(-80000),
        status="resolved",
    )
    rows = services.incidents_between(library_a, at(-10), at(3600))
    assert len(rows) == 1
    assert (
        rows[0]["duration_seconds"] == 600
        and rows[0]["cause"] == "HTTP 502"
        and rows[0]["resource"] == resource_a
    )
    assert set(rows[0]) == {
        "resource",
        "route",
        "kind",
        "opened_at",
        "closed_at",
        "duration_seconds",
        "cause",
    }


def test_steady_results_keep_the_bookkeeping_and_the_evidence(
    route: AccessRoute, site: Site
) -> None:
    probe_step(now=at(0))
    probe_step(now=at(300))  # same state again: the batch path
    c = config(route)
    assert (c.next_probe_at, c.last_checked_at, c.lease_owner, c.last_status_code) == (
        at(600),
        at(300),
        "",
        200,
    )
    assert c.lease_until is None and c.last_response_ms is not None
    site.pages["/"] = Page(status=500)
    for t in (600, 620, 640):
        probe_step(now=at(t))
    assert config(route).state == HealthState.DOWN
    before = ProbeResult.objects.filter(route=route).count()
    probe_step(now=at(940))  # still down: evidence is kept on the batch path too
    c = config(route)
    assert (c.state, c.last_checked_at, c.next_probe_at, c.last_failure) == (
        HealthState.DOWN,
        at(940),
        at(1240),
        FailureKind.STATUS,
    )
    assert ProbeResult.objects.filter(route=route).count() == before + 1
    assert Incident.objects.filter(route=route, status=IncidentStatus.OPEN).count() == 1


def test_the_next_probe_counts_from_the_due_time_not_the_record_time(
    route: AccessRoute, site: Site
) -> None:
    """Lag in claiming, probing and writing does not add up: an outage is confirmed within one
    interval plus the retries of the last good probe's due time."""
    probe_step(now=at(0))
    probe_step(now=at(302.5))  # claimed and recorded 2.5 s late
    assert config(route).next_probe_at == at(600)
    site.pages["/"] = Page(status=500)
    probe_step(now=at(601))
    assert config(route).next_probe_at == at(620)  # the retry: 20 s after this probe was due
    probe_step(now=at(621))
    report = probe_step(now=at(640.5))
    assert report.flips == 1
    assert Flip.objects.get(route=route, new=HealthState.DOWN).at - at(300) <= dt.timedelta(
        seconds=300 + 2 * 20 + 1
    )
    # A worker more than an interval behind counts from the time it records (no burst).
    probe_step(now=at(2000))
    assert config(route).next_probe_at == at(2300)


def test_a_result_that_changes_the_state_is_told_apart() -> None:
    from dataclasses import replace

    from lifeline.health.logic.probe import ProbeOutcome, ProbeSpec

    up = ProbeSpec(config_id=1, route_id=1, url="http://x/", known_state=HealthState.UP, retries=2)

    def result(s: ProbeSpec, state: str) -> ProbeOutcome:
        return ProbeOutcome(spec=s, started_at=T0, state=state)

    assert not up.changes_state(result(up, HealthState.UP))
    assert not up.changes_state(result(up, HealthState.DOWN))  # the first of three
    confirming = replace(up, pending_state=HealthState.DOWN, pending_count=2)
    assert confirming.changes_state(result(confirming, HealthState.DOWN))
    assert not confirming.changes_state(result(confirming, HealthState.DEGRADED))
    first = replace(up, known_state=HealthState.UNKNOWN)
    assert first.changes_state(result(first, HealthState.DOWN))
