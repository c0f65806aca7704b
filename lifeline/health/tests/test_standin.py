"""The demo's live status: break a route on the stand-in vendor and see the whole chain (probe,
incident, status page, vendor e-mail in the mailbox page), then mend it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from lifeline.conftest import client_for
from lifeline.health import standin
from lifeline.health.choices import HealthState, IncidentStatus
from lifeline.health.logic.worker import probe_step
from lifeline.health.models import Escalation, Incident, ProbeConfig
from lifeline.registry.models import Resource, Vendor


@pytest.fixture
def demo(settings: Any, tmp_path: Path) -> Path:
    settings.DEMO_MODE = True
    settings.DATA_DIR = tmp_path
    settings.MAILERS = {"default": {"BACKEND": "lifeline.health.standin.MailboxBackend"}}
    return tmp_path


def cnki(library: Any) -> Resource:
    vendor = Vendor.objects.create(
        library=library, key="cnki", name="中国知网", email="support@cnki.example.com"
    )
    return Resource.objects.create(library=library, key="cnki", name="中国知网", vendor=vendor)


def state(client: Any, code: str) -> str:
    data = client.get(reverse("health:json", args=[code])).json()
    [row] = [r for r in data["resources"] if r["key"] == "cnki"]
    return str(row["state"])


@pytest.mark.django_db(transaction=True)
def test_breaking_a_demo_route_shows_the_whole_chain(
    demo: Path, live_server: Any, library_a: Any, admin_a: Any, client: Any
) -> None:
    cnki(library_a)
    [route_id] = standin.setup(library_a, admin_a, base_url=live_server.url)
    code = library_a.code
    staff = client_for(admin_a)
    assert probe_step(now=timezone.now()).probed == 1
    assert ProbeConfig.objects.get(route_id=route_id).state == HealthState.UP
    assert state(client, code) == HealthState.UP

    # Break: the stand-in answers 200 with "IP 未授权"; the probe and its retry class it down.
    page = staff.get(reverse("health:standin_admin", args=[code]))
    assert page.status_code == 200 and live_server.url in page.text
    answer = staff.post(
        reverse("health:standin_admin", args=[code]), {"route": route_id, "mode": "ip"}
    )
    assert answer.status_code == 302
    now = timezone.now()
    probe_step(now=now)
    probe_step(now=now + dt.timedelta(seconds=10))
    config = ProbeConfig.objects.get(route_id=route_id)
    assert (config.state, config.last_status_code) == (HealthState.DOWN, 200)
    # The route's default phrases or CNKI's signature: either way a login wall, not an answer.
    assert config.last_failure == "keyword_forbidden" and "未授权" in config.last_error
    incident = Incident.objects.get(route_id=route_id, status=IncidentStatus.OPEN)

    # The public status page changes.
    assert state(client, code) == HealthState.DOWN
    public = client.get(reverse("health:page", args=[code]))
    assert reverse("health:incident", args=[code, incident.pk]) in public.text

    # Escalated from the incident page, the vendor's e-mail goes through the outbox and lands.
    staff.post(reverse("health:staff_incident", args=[code, incident.pk]), {"action": "escalate"})
    escalation = Escalation.objects.get(incident=incident)
    assert list((demo / "mailbox").glob("*.eml"))
    mailbox = staff.get(reverse("health:mailbox", args=[code]))
    assert mailbox.status_code == 200
    assert escape(escalation.subject) in mailbox.text
    assert "support@cnki.example.com" in mailbox.text

    # Mend: the next probe finds it up and the incident resolves itself.
    staff.post(reverse("health:standin_admin", args=[code]), {"route": route_id, "mode": "ok"})
    later = timezone.now()
    probe_step(now=later)
    probe_step(now=later + dt.timedelta(seconds=10))
    assert ProbeConfig.objects.get(route_id=route_id).state == HealthState.UP
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED
    assert state(client, code) == HealthState.UP


def test_every_stand_in_mode_answers(demo: Path, library_a: Any, client: Any) -> None:
    cnki(library_a)
    Resource.objects.create(library=library_a, key="other", name="不是替身")
    assert client.get(reverse("health:standin_page", args=["cnki"])).status_code == 404
    assert client.get(reverse("health:standin_page", args=["other"])).status_code == 404
    standin.setup(library_a, None)
    url = reverse("health:standin_page", args=["cnki"])
    statuses = {}
    for mode in standin.MODES:
        standin.set_mode("cnki", mode)
        statuses[mode] = client.get(url).status_code
    assert statuses == {"ok": 200, "error": 503, "ip": 200, "needhost": 200}
    assert client.get(reverse("health:standin_page", args=["nothing"])).status_code == 404


def test_pages_are_404_outside_demo_mode(
    settings: Any, library_a: Any, admin_a: Any, client: Any
) -> None:
    settings.DEMO_MODE = False
    cnki(library_a)
    staff = client_for(admin_a)
    assert client.get(reverse("health:standin_page", args=["cnki"])).status_code == 404
    assert staff.get(reverse("health:standin_admin", args=[library_a.code])).status_code == 404
    assert staff.get(reverse("health:mailbox", args=[library_a.code])).status_code == 404


def test_hostile_visitors(
    demo: Path,
    library_a: Any,
    admin_a: Any,
    librarian_b: Any,
    patron_a: Any,
    reference_a: Any,
    client: Any,
) -> None:
    cnki(library_a)
    [route_id] = standin.setup(library_a, admin_a, base_url="http://127.0.0.1:9")
    code = library_a.code
    for path in ("health:standin_admin", "health:mailbox"):
        url = reverse(path, args=[code])
        assert client.get(url).status_code == 302  # to the sign-in page
        for user in (librarian_b, patron_a, reference_a):
            assert client_for(user).get(url).status_code == 403
    assert client.get(reverse(path, args=["no-such-library"])).status_code in {302, 404}
    admin = client_for(admin_a)
    url = reverse("health:standin_admin", args=[code])
    for bad in ({"route": route_id, "mode": "explode"}, {"route": "x" * 5000, "mode": "ok"}, {}):
        assert admin.post(url, bad).status_code == 400
    # A route of another library cannot be switched from this page.
    assert standin.modes() == {"cnki": "ok"}
    # A broken modes file reads as "all working", never a 500.
    (demo / "standin-vendor.json").write_text("{not json")
    assert client.get(reverse("health:standin_page", args=["cnki"])).status_code == 200
    assert admin.get(reverse("health:mailbox", args=[code])).status_code == 200


def test_the_no_access_page_is_the_vendors_platforms(
    demo: Path, library_a: Any, client: Any
) -> None:
    elsevier = Vendor.objects.create(library=library_a, key="elsevier", name="Elsevier")
    Resource.objects.create(library=library_a, key="sd", name="ScienceDirect", vendor=elsevier)
    standin.setup(library_a, None)
    standin.set_mode("sd", "ip")
    page = client.get(reverse("health:standin_page", args=["sd"]))
    assert page.status_code == 200 and b"Purchase PDF" in page.content
    # ... which the probe knows as ScienceDirect's through the vendor key "elsevier".
    from lifeline.health.logic.signatures import library

    found = library().matcher("http://127.0.0.1/", platform="elsevier").search(page.text)
    assert found is not None and found.signature.label == "sciencedirect/no-entitlement"
