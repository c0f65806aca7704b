"""The issue's "done when": real servers on loopback; one goes down; the incident opens, the status
page changes, the vendor's e-mail reaches the SMTP server, the reporter hears of the recovery;
in Chinese and in English."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from lifeline.conftest import client_for
from lifeline.core.choices import Channel, WebhookFormat
from lifeline.core.notify import send_pending
from lifeline.health.choices import HealthState, IncidentKind, IncidentStatus
from lifeline.health.logic.worker import probe_step
from lifeline.health.models import Escalation, Incident, ProbeConfig, Subscription
from lifeline.health.tests.conftest import make_route
from lifeline.health.tests.servers import Hook, Mailbox, Page, Site
from lifeline.registry.models import Resource, Vendor

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)

TEXT = {
    "zh-hans": {
        "up": "正常",
        "down": "中断",
        "received": "我们已收到您关于中国知网的报告",
        "fixed": "中国知网已恢复访问",
        "vendor_subject": "访问故障",
        "vendor_body": "承诺的响应时间",
        "opened": "访问故障：中国知网",
        "resolved": "访问已恢复：中国知网",
    },
    "en": {
        "up": "Up",
        "down": "Down",
        "received": "We received your report about CNKI",
        "fixed": "CNKI works again",
        "vendor_subject": "Access fault",
        "vendor_body": "promised response time",
        "opened": "Access problem: CNKI",
        "resolved": "Access restored: CNKI",
    },
}


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_outage_end_to_end(
    lang: str,
    library_a: Any,
    admin_a: Any,
    librarian_a: Any,
    mailbox: Mailbox,
    hook: Hook,
    settings: Any,
) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # webhooks go through core.outbound
    t = TEXT[lang]
    vendor = Vendor.objects.create(
        library=library_a,
        key="cnki",
        name="中国知网",
        name_en="CNKI",
        email="support@cnki.example.com",
        response_hours=4,
        preferred_language=lang,
        contact_name="Wang",
    )
    resource = Resource.objects.create(
        library=library_a, key="cnki", name="中国知网", name_en="CNKI", vendor=vendor
    )
    site = Site()
    port = site.port
    route = make_route(
        resource,
        site.url("/kns"),
        admin=admin_a,
        retries=2,
        retry_seconds=20,
        interval_seconds=300,
        must_not_contain="访问受限\nIP not authorised",
    )
    site.pages["/kns"] = Page(body="<title>中国知网</title>".encode())
    ProbeConfig.objects.filter(route=route).update(next_probe_at=at(0))
    Subscription.objects.create(
        library=library_a,
        name="duty robot",
        channel=Channel.WEBHOOK,
        url=hook.url,
        webhook_format=WebhookFormat.WECOM,
        language=lang,
    )
    Subscription.objects.create(
        library=library_a,
        name="e-resources desk",
        channel=Channel.EMAIL,
        email="eres@nefu.example.edu",
        language=lang,
    )
    patron = Client()
    patron.cookies["lifeline_lang"] = lang

    try:
        probe_step(now=at(0))
        page = patron.get(f"/status/{library_a.code}/").content.decode()
        assert 'data-state="up"' in page and t["up"] in page

        # The site goes down.
        site.stop()
        for seconds in (300, 320, 340):
            probe_step(now=at(seconds))
        incident = Incident.objects.get(route=route)
        assert (incident.status, incident.kind, incident.opened_at) == (
            IncidentStatus.OPEN,
            IncidentKind.PROBE,
            at(340),
        )
        assert ProbeConfig.objects.get(route=route).state == HealthState.DOWN

        page = patron.get(f"/status/{library_a.code}/").content.decode()
        assert (
            'data-state="down"' in page and t["down"] in page and f"incident-{incident.pk}" in page
        )

        # A patron reports it; the report joins the open incident.
        response = patron.post(
            f"/status/{library_a.code}/report/",
            {
                "resource": resource.pk,
                "route": route.pk,
                "description": "打不开 / cannot open",
                "contact_email": "reader@example.edu",
                "contact_name": "Li",
                "website": "",
            },
        )
        assert response.status_code == 200
        assert incident.reports.count() == 1

        # Staff escalate to the vendor from the incident page.
        staff = client_for(librarian_a)
        staff.post(
            f"/status/{library_a.code}/staff/incidents/{incident.pk}/", {"action": "escalate"}
        )
        escalation = Escalation.objects.get(incident=incident)
        assert escalation.language == lang

        # The site comes back on the same port; recovery is confirmed after the retries.
        site = Site(port=port)
        site.pages["/kns"] = Page(body="<title>中国知网</title>".encode())
        for seconds in (640, 660, 680):
            probe_step(now=at(seconds))
        incident.refresh_from_db()
        assert (incident.status, incident.closed_at) == (IncidentStatus.RESOLVED, at(680))
        page = patron.get(f"/status/{library_a.code}/").content.decode()
        assert 'data-state="up"' in page

        assert send_pending() >= 6
    finally:
        site.stop()

    vendor_mail = mailbox.to("support@cnki.example.com")
    assert len(vendor_mail) == 1
    body = vendor_mail[0].get_content()
    assert t["vendor_subject"] in vendor_mail[0]["Subject"] and t["vendor_body"] in body
    assert (
        f"127.0.0.1:{port}/kns" in body and "refused" in body.lower()
    )  # route, error and probe evidence
    assert escalation.token in body

    reader = mailbox.to("reader@example.edu")
    assert [t["received"] in m["Subject"] for m in reader] == [True, False]
    assert t["fixed"] in reader[1]["Subject"]
    assert f"/status/{library_a.code}/incidents/{incident.pk}/" in reader[1].get_content()

    desk = [m["Subject"] for m in mailbox.to("eres@nefu.example.edu")]
    assert desk == [t["opened"], t["resolved"]]
    assert [b["msgtype"] for b in hook.bodies] == ["markdown", "markdown"]
    assert t["opened"] in hook.bodies[0]["markdown"]["content"]

    # The vendor answers through the link in the e-mail; the dashboard shows the times.
    vendor_client = Client()
    vendor_client.post(f"/status/vendor/{escalation.token}/", {"action": "ack"})
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is not None
    dashboard = client_for(librarian_a).get("/staff/").content.decode()
    assert "health-panel" in dashboard and str(vendor.display("name")) in dashboard
