"""Public pages (status, feed, JSON, fault reports), staff pages, permissions, API and dashboard."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.models import AuditLog
from lifeline.health.choices import HealthState, IncidentKind, IncidentStatus
from lifeline.health.logic import incidents
from lifeline.health.models import Escalation, FaultReport, Incident, MaintenanceWindow, ProbeConfig
from lifeline.registry.models import AccessRoute, Resource, Vendor


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PNG = _png()  # a real image: screenshots are decoded and written anew (issue 21)


@pytest.fixture
def route(resource_a: Resource) -> AccessRoute:
    r = AccessRoute.objects.create(
        resource=resource_a, kind="carsi", url="https://kns.cnki.example.com/"
    )
    ProbeConfig.objects.create(route=r, state=HealthState.DOWN, state_since=timezone.now())
    return r


@pytest.fixture
def incident(route: AccessRoute) -> Incident:
    inc, _ = incidents.open_or_join(
        route.resource,
        route,
        kind=IncidentKind.PROBE,
        cause="HTTP 502 Bad Gateway",
        event_text="Up → Down: HTTP 502",
    )
    return inc


def test_status_page_is_public_and_bounded(
    client: Client,
    library_a: Any,
    route: AccessRoute,
    incident: Incident,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(5):  # more resources must not mean more queries
        res = Resource.objects.create(library=library_a, key=f"r{i}", name=f"R{i}")
        ProbeConfig.objects.create(
            route=AccessRoute.objects.create(resource=res, kind="vpn", url="https://x.example/"),
            state=HealthState.UP,
        )
    # Cold: the table's version (3), the table itself (6), the incidents (3), the library and
    # the request's own; a warm page skips the table (test below).
    with django_assert_max_num_queries(15):
        response = client.get("/status/nefu/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="down"' in page and page.count('data-state="up"') == 5
    assert "HTTP 502" in page and f'id="incident-{incident.pk}"' in page and "<svg" in page
    assert client.get("/status/nope/").status_code == 404


def test_status_page_counts_reports_and_caches_its_table(
    client: Client, library_a: Any, route: AccessRoute, incident: Incident
) -> None:
    """Issue 16 (surge): readers' reports are counted, not listed, so the page does not grow
    with a surge; the table of resources is cached until a probe, a flip, maintenance or the
    registry changes; the number of queries depends on neither."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> tuple[str, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/status/nefu/?lang=en")
        assert response.status_code == 200
        return response.content.decode(), [q["sql"] for q in queries.captured_queries]

    report = {"resource": route.resource, "route": route, "description": "访问受限"}
    incidents.file_report(**report)
    first, cold = get()
    assert "Reported by 1 reader, at" in first and "Up → Down: HTTP 502" in first
    _page, warm = get()
    assert len(warm) <= len(cold) - 5 and len(warm) <= 8  # no uptime sweep, no resources
    assert not any("health_flip" in sql and "max" not in sql.lower() for sql in warm)
    for _ in range(29):
        incidents.file_report(**report)
    page, queries = get()
    assert len(queries) == len(warm)  # 30 reports cost what one did
    assert "Reported by 30 readers, the latest at" in page
    assert "A reader reported" not in page  # no line per report
    assert page.count('class="timeline') == 1 and 'data-reports="30"' in page
    ProbeConfig.objects.filter(route=route).update(state=HealthState.UP)
    page, _queries = get()
    assert 'data-state="up"' in page and 'data-state="down"' not in page  # not a stale table


def test_json_and_atom(client: Client, route: AccessRoute, incident: Incident) -> None:
    now = timezone.now()
    MaintenanceWindow.objects.create(
        config=route.probe,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )
    assert "Planned maintenance" in client.get("/status/nefu/?lang=en").content.decode()
    data = client.get("/status/nefu/status.json").json()
    assert data["resources"][0]["routes"][0]["maintenance"] is True
    assert data["library"] == "nefu"
    assert (
        data["resources"][0]["state"] == "down"
        and data["resources"][0]["routes"][0]["id"] == route.pk
    )
    assert set(data["resources"][0]["uptime"]) == {"24h", "7d", "30d", "term"}
    assert (
        data["incidents"][0]["id"] == incident.pk
        and data["incidents"][0]["timeline"][0]["kind"] == "opened"
    )
    feed = client.get("/status/nefu/feed.atom?lang=en")
    assert feed["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)  # noqa: S314 - our own feed
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert titles == ["[open] CNKI: Probe failure"]


def test_public_incident_page_hides_staff_notes(
    client: Client, incident: Incident, librarian_a: Any
) -> None:
    incidents.add_note(
        incident, librarian_a, "vendor phoned, DNS change at their side", public=False
    )
    incidents.add_note(incident, librarian_a, "Working with the vendor", public=True)
    page = client.get(f"/status/nefu/incidents/{incident.pk}/").content.decode()
    assert "Working with the vendor" in page and "DNS change" not in page


def post_report(client: Client, resource: Resource, **extra: Any) -> Any:
    data = {
        "resource": resource.pk,
        "description": "页面显示访问受限",
        "contact_email": "r@example.edu",
        "website": "",
        **extra,
    }
    return client.post("/status/nefu/report/", data)


def test_report_form_without_js_and_merging(
    client: Client, resource_a: Resource, route: AccessRoute, incident: Incident
) -> None:
    assert client.get(f"/status/nefu/report/?resource={resource_a.pk}").status_code == 200
    response = post_report(
        client, resource_a, route=route.pk, screenshot=SimpleUploadedFile("s.png", PNG, "image/png")
    )
    assert response.status_code == 200
    report = FaultReport.objects.get()
    assert (
        report.incident == incident
        and report.screenshot.name.endswith(".png")
        and report.address == "127.0.0.1"
    )
    post_report(client, resource_a)  # no route: an incident of its own for the resource
    assert Incident.objects.filter(kind=IncidentKind.REPORT, route=None).count() == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"description": ""}, "This field is required"),
        (
            {"screenshot": SimpleUploadedFile("s.png", b"MZ\x90\x00 not an image", "image/png")},
            "must be a PNG",
        ),
        (
            {"screenshot": SimpleUploadedFile("s.png", PNG + b"\x00" * 2048, "image/png")},
            "the limit is 1 KB",
        ),
        ({"contact_email": "not-an-address"}, "valid email"),
    ],
)
def test_report_bad_input_is_named(
    english: Client, resource_a: Resource, settings: Any, extra: dict[str, Any], message: str
) -> None:
    settings.HEALTH_SCREENSHOT_MAX_BYTES = 1024
    response = post_report(english, resource_a, **extra)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not FaultReport.objects.exists() and not Incident.objects.exists()


def test_report_route_of_another_resource(
    english: Client, resource_a: Resource, library_a: Any
) -> None:
    other = Resource.objects.create(library=library_a, key="wos", name="Web of Science")
    foreign = AccessRoute.objects.create(resource=other, kind="vpn", url="https://wos.example/")
    response = post_report(english, resource_a, route=foreign.pk)
    assert (
        response.status_code == 400 and "belongs to another resource" in response.content.decode()
    )


def test_honeypot_and_rate_limit(client: Client, resource_a: Resource, settings: Any) -> None:
    settings.HEALTH_REPORTS_PER_HOUR = 2
    assert post_report(client, resource_a, website="http://spam.example").status_code == 200
    assert not FaultReport.objects.exists()
    assert post_report(client, resource_a).status_code == 200
    assert post_report(client, resource_a).status_code == 200
    blocked = post_report(client, resource_a)
    assert blocked.status_code == 429 and FaultReport.objects.count() == 2


def test_staff_pages_permissions(
    client: Client,
    stranger: Any,
    librarian_b: Any,
    reference_a: Any,
    tech_a: Any,
    incident: Incident,
) -> None:
    url = f"/status/nefu/staff/incidents/{incident.pk}/"
    assert client.get(url).status_code == 302  # to the login page
    assert client_for(stranger).get(url).status_code == 403
    assert client_for(librarian_b).get(url).status_code == 403
    viewer = client_for(reference_a)
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"action": "acknowledge"}).status_code == 403
    tech = client_for(tech_a)
    tech.post(url, {"action": "acknowledge"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    tech.post(url, {"action": "note", "text": "checking", "public": "on"})
    tech.post(url, {"action": "resolve"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert [e.kind for e in incident.events.all()] == ["opened", "acknowledged", "note", "resolved"]
    # Escalating a resolved incident is refused with a message, not a 500.
    response = tech.post(url, {"action": "escalate"}, follow=True)
    assert (
        "cannot be escalated" in response.content.decode()
        or "不能再通知" in response.content.decode()
    )


def test_incident_list_and_xlsx(
    tech_a: Any, incident: Incident, django_assert_max_num_queries: Any
) -> None:
    c = client_for(tech_a)
    with django_assert_max_num_queries(12):
        page = c.get("/status/nefu/staff/")
    assert f"#{incident.pk}" in page.content.decode()
    xlsx = c.get("/status/nefu/staff/?format=xlsx&status=all")
    assert xlsx.content[:2] == b"PK"
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(2, 1).value == incident.pk


def test_escalation_needs_a_vendor_address(
    tech_a: Any, incident: Incident, vendor_a: Vendor
) -> None:
    Vendor.objects.filter(pk=vendor_a.pk).update(email="", escalation_email="")
    response = client_for(tech_a).post(
        f"/status/nefu/staff/incidents/{incident.pk}/", {"action": "escalate"}, follow=True
    )
    assert "没有登记电子邮箱" in response.content.decode()
    assert not Escalation.objects.exists()


def test_second_escalation_adds_the_escalation_contact(incident: Incident, tech_a: Any) -> None:
    first = incidents.escalate(incident, user=tech_a)
    second = incidents.escalate(incident, user=tech_a)
    assert first.recipients == ["support@cnki.example.com"]
    assert second.recipients == ["support@cnki.example.com", "boss@cnki.example.com"]
    assert first.due_at - first.sent_at == dt.timedelta(hours=4)


def test_probe_config_editing(
    route: AccessRoute, tech_a: Any, admin_a: Any, reference_a: Any
) -> None:
    url = f"/status/nefu/staff/routes/{route.pk}/probe/"
    assert client_for(reference_a).get(url).status_code == 403
    tech = client_for(tech_a)
    form = {
        "enabled": "on",
        "interval_seconds": 120,
        "timeout_seconds": 10,
        "expected_status": "200-299, 302",
        "must_contain": "",
        "must_not_contain": "访问受限",
        "max_redirects": 5,
        "retries": 1,
        "retry_seconds": 15,
        "slow_ms": 4000,
        "cert_warning_days": 10,
    }
    assert tech.post(url, form).status_code == 302
    config = ProbeConfig.objects.get(route=route)
    assert (config.interval_seconds, config.expected_status) == (120, "200-299, 302")
    assert AuditLog.objects.filter(
        model="health.ProbeConfig", object_pk=str(config.pk), user=tech_a
    ).exists()
    bad = tech.post(url + "?lang=en", {**form, "expected_status": "200-299, abc"})
    assert "“abc” is not an HTTP status or range." in bad.content.decode()
    # A non-admin cannot allow internal targets (the checkbox is disabled and ignored).
    tech.post(url, {**form, "allow_private": "on"})
    assert ProbeConfig.objects.get(route=route).allow_private is False
    # A non-admin's loopback target is refused; an administrator may allow it (and is recorded).
    AccessRoute.objects.filter(pk=route.pk).update(url="http://127.0.0.1:8080/")
    refused = tech.post(url + "?lang=en", form)
    assert "is internal; probes refuse it" in refused.content.decode()
    assert client_for(admin_a).post(url, {**form, "allow_private": "on"}).status_code == 302
    config = ProbeConfig.objects.get(route=route)
    assert (
        config.allow_private
        and config.allow_private_set_by == admin_a
        and config.allow_private_set_at
    )


def test_maintenance_window_form(route: AccessRoute, tech_a: Any) -> None:
    url = f"/status/nefu/staff/routes/{route.pk}/probe/?lang=en"
    tech = client_for(tech_a)
    bad = tech.post(
        url, {"action": "window", "starts_at": "2026-03-02T10:00", "ends_at": "2026-03-02T09:00"}
    )
    assert "The window ends before it starts." in bad.content.decode()
    tech.post(
        url,
        {
            "action": "window",
            "starts_at": "2026-03-02T10:00",
            "ends_at": "2026-03-02T12:00",
            "note": "upgrade",
        },
    )
    assert MaintenanceWindow.objects.get().note == "upgrade"
    assert tech.post(f"/status/nefu/staff/routes/{route.pk}/probe-now/").status_code == 302


def test_vendor_reply_link(client: Client, incident: Incident, tech_a: Any) -> None:
    esc = incidents.escalate(incident, user=tech_a)
    assert client.get("/status/vendor/not-a-token/").status_code == 404
    assert client.get(f"/status/vendor/{esc.token}/").status_code == 200
    client.post(f"/status/vendor/{esc.token}/", {"action": "resolved"})
    esc.refresh_from_db()
    assert esc.acknowledged_at and esc.resolved_at
    assert client.post(f"/status/vendor/{esc.token}/", {"action": "bogus"}).status_code == 400


def test_dashboard_panel_vendor_times(librarian_a: Any, incident: Incident) -> None:
    now = timezone.now()
    esc = incidents.escalate(incident, now=now - dt.timedelta(hours=10))
    incidents.vendor_acknowledged(esc, now=now - dt.timedelta(hours=8))
    incidents.vendor_resolved(esc, now=now - dt.timedelta(hours=4))
    page = client_for(librarian_a).get("/staff/?lang=en").content.decode()
    assert "health-panel" in page
    assert (
        '<td class="num">2.0</td><td class="num">6.0</td>' in page
    )  # hours to acknowledge, to resolve


def test_api(
    librarian_a: Any,
    librarian_b: Any,
    tech_a: Any,
    reference_a: Any,
    incident: Incident,
    route: AccessRoute,
) -> None:
    rows = client_for(librarian_a).get("/api/health/incidents/").json()["results"]
    assert [r["id"] for r in rows] == [incident.pk]
    assert client_for(librarian_b).get("/api/health/incidents/").json()["results"] == []
    config = ProbeConfig.objects.get(route=route)
    url = f"/api/health/probes/{config.pk}/"
    assert (
        client_for(reference_a)
        .patch(url, {"interval_seconds": 600}, content_type="application/json")
        .status_code
        == 403
    )
    ok = client_for(tech_a).patch(
        url, {"interval_seconds": 600, "allow_private": True}, content_type="application/json"
    )
    assert ok.status_code == 200
    config.refresh_from_db()
    assert config.interval_seconds == 600 and config.allow_private is False


def test_status_address_leads_to_the_librarys_page(client: Client, library_a: Any) -> None:
    response = client.get("/status/")
    assert response.status_code == 302
    assert response["Location"] == f"/status/{library_a.code}/"


def test_status_address_without_a_library(client: Client, db: None) -> None:
    assert client.get("/status/").status_code == 404


def test_rate_limit_spares_the_campus_nat(
    client: Client, resource_a: Resource, library_a: Any, settings: Any
) -> None:
    """A campus's egress addresses (the library's rate-limit exemptions) are many patrons:
    the fault-report limit does not count them as one (issue 16)."""
    from lifeline.core import ratelimit

    settings.HEALTH_REPORTS_PER_HOUR = 1
    library_a.rate_exempt_networks = "202.118.0.0/16"
    library_a.save(update_fields=["rate_exempt_networks"])
    ratelimit.forget()
    data = {"resource": resource_a.pk, "description": "访问受限", "contact_email": "r@example.edu"}

    def post(address: str) -> int:
        return client.post("/status/nefu/report/", data, REMOTE_ADDR=address).status_code

    assert [post("202.118.1.1") for _ in range(3)] == [200, 200, 200]
    assert [post("203.0.113.1") for _ in range(2)] == [200, 429]
    ratelimit.forget()
