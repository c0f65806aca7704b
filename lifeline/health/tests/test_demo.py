"""The Access health demo: consistent incidents and history, pages that show them, re-runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.demo.loader import load_demo
from lifeline.core.models import Notification
from lifeline.health.choices import HealthState, IncidentKind, IncidentStatus
from lifeline.health.models import (
    Escalation,
    FaultReport,
    Flip,
    Incident,
    IncidentEvent,
    ProbeConfig,
    ProbeResult,
)
from lifeline.health.services import incidents_between, vendor_response_stats


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Incident, IncidentEvent, FaultReport, Escalation, Flip, ProbeResult)
    }


@pytest.mark.django_db
def test_demo_shows_health_and_reloads_idempotently(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
    today = timezone.localdate()
    lib = load_demo(today)["library"]
    first = _counts()

    incidents = Incident.objects.filter(library=lib)
    open_now = incidents.exclude(status=IncidentStatus.RESOLVED).get(kind=IncidentKind.PROBE)
    assert open_now.resource.key == "sd"
    assert open_now.route is not None and open_now.route.probe.state == HealthState.DOWN
    assert open_now.reports.count() == 1
    escalation = open_now.escalations.get()
    assert escalation.acknowledged_at is None
    assert incidents.filter(kind=IncidentKind.SUSPECTED, closed_at__isnull=True).count() == 1
    week = incidents.get(resource__key="cnki", route__kind="carsi")
    assert week.status == IncidentStatus.RESOLVED
    assert week.escalations.get().resolved_at is not None
    # The 2020 epidemic: the emergency review finds the VPN outage of the first online day.
    start = timezone.make_aware(dt.datetime(2020, 2, 1))
    review = incidents_between(lib, start, start + dt.timedelta(days=29))
    assert [i["route"].kind for i in review] == ["vpn"]
    # Vendors answered: the dashboard's response figures have something to show.
    stats = {str(row["vendor"].key): row for row in vendor_response_stats(lib)}
    assert round(stats["cnki"]["mean_ack_hours"], 1) == 1.5
    assert stats["elsevier"]["waiting"] == 1
    # Mostly up, a few degraded, one down; probes stay off; no notice waits to be sent.
    states = list(ProbeConfig.objects.filter(route__resource__library=lib).values_list("state"))
    assert states.count(("down",)) == 1
    assert 1 <= states.count(("degraded",)) <= 3
    assert states.count(("up",)) == len(states) - states.count(("down",)) - states.count(
        ("degraded",)
    )
    assert not ProbeConfig.objects.filter(enabled=True).exists()
    assert not Notification.objects.filter(kind__startswith="health.").exists()

    load_demo(today)
    assert _counts() == first
    assert not ProbeConfig.objects.filter(enabled=True).exists()


@pytest.mark.django_db
def test_demo_pages_render(settings: Any, tmp_path: Any, client: Client) -> None:
    settings.DATA_DIR = tmp_path
    lib = load_demo(timezone.localdate())["library"]
    open_now = Incident.objects.get(library=lib, resource__key="sd")
    tech = client_for(get_user_model().objects.get(username="tech"))

    page = tech.get(f"/status/{lib.code}/staff/").content.decode()
    assert "ScienceDirect" in page and "Wiley" in page
    detail = tech.get(f"/status/{lib.code}/staff/incidents/{open_now.pk}/")
    assert detail.status_code == 200
    assert "student@nefu.example.edu" in detail.content.decode()
    dashboard = tech.get("/staff/")
    assert dashboard.status_code == 200
    assert "1.5" in dashboard.content.decode()  # CNKI's mean time to acknowledge (h)

    public = client.get(f"/status/{lib.code}/")
    assert public.status_code == 200
    assert "ScienceDirect" in public.content.decode()
    english = client.get(f"/status/{lib.code}/incidents/{open_now.pk}/?lang=en")
    assert english.status_code == 200
    assert "Access denied" in english.content.decode()
