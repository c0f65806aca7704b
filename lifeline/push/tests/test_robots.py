"""The staff page for group robots: list, add, edit, disable, test-send; scoped to the library
and the `push.robots` permission; the webhook URL (the robot's credential) never shown in full
and checked by core.outbound's SSRF guard."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import Role
from lifeline.core.models import Library, Notification
from lifeline.core.tests.test_notify import Hook
from lifeline.push.models import Robot

SECRET = "3f1c9a7e-5b2d-4e8f-9a60-c1d2e3f4a5b6"


@pytest.mark.django_db
def test_add_edit_disable_and_test_send(library_a: Library, reference_a: Any, hook: str) -> None:
    staff = client_for(reference_a)
    base = f"/push/{library_a.code}/robots/"
    assert staff.get(base).status_code == 200
    url = f"{hook}?key={SECRET}"
    response = staff.post(
        base + "new/",
        {
            "name": "咨询部群",
            "url": url,
            "fmt": "wecom",
            "is_active": "on",
            "topics_chosen": ["epidemic"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    robot = Robot.objects.get(library=library_a)
    assert robot.url == url and robot.topics == "epidemic"
    # The list and the edit form show the address shortened, never the key.
    for page in (staff.get(base), staff.get(f"{base}{robot.pk}/")):
        html = page.content.decode()
        assert page.status_code == 200 and SECRET not in html and SECRET[-4:] in html
    # Editing without a new address keeps the stored one.
    staff.post(f"{base}{robot.pk}/", {"name": "咨询部", "url": "", "fmt": "feishu"})
    robot.refresh_from_db()
    assert robot.name == "咨询部" and robot.url == url and robot.fmt == "feishu"
    assert not robot.is_active and robot.topics == ""  # unticked boxes: disabled, every topic
    staff.post(f"{base}{robot.pk}/action/", {"action": "enable"})
    robot.refresh_from_db()
    assert robot.is_active
    # A test message really goes out, now.
    page = staff.post(f"{base}{robot.pk}/action/", {"action": "test"}, follow=True)
    assert len(Hook.received) == 1 and page.status_code == 200
    assert Notification.objects.get(kind="push.robot_test").status == "sent"
    # A failing robot: the error is shown, the key is not, and the outbox does not retry it.
    Hook.answer = (200, {"code": 19001, "msg": "param invalid"})
    page = staff.post(f"{base}{robot.pk}/action/", {"action": "test"}, follow=True)
    html = page.content.decode()
    assert "19001" in html and SECRET not in html
    assert Notification.objects.filter(kind="push.robot_test", status="failed").count() == 1
    staff.post(f"{base}{robot.pk}/action/", {"action": "disable"})
    robot.refresh_from_db()
    assert not robot.is_active


@pytest.mark.django_db
def test_internal_addresses_refused(library_a: Library, admin_a: Any, settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    staff = client_for(admin_a)
    for bad in (
        "http://127.0.0.1:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://10.0.0.5/x",
        "file:///etc/passwd",
        "gopher://example.org/",
        "https://user:pw@example.org/hook",
    ):
        response = staff.post(
            f"/push/{library_a.code}/robots/new/", {"name": "x", "url": bad, "fmt": "json"}
        )
        assert response.status_code == 200, bad  # the form again, with the error
    assert not Robot.objects.exists()


@pytest.mark.django_db
def test_robots_are_scoped(library_a: Library, library_b: Library, reference_a: Any) -> None:
    theirs = Robot.objects.create(
        library=library_b, name="HIT", url=f"https://example.org/{SECRET}"
    )
    mine = Robot.objects.create(library=library_a, name="NEFU", url="https://example.org/nefu")
    staff = client_for(reference_a)
    # Another library's robot, by its own library's address or by ours: nothing.
    assert staff.get(f"/push/{library_b.code}/robots/").status_code == 403
    assert staff.get(f"/push/{library_a.code}/robots/{theirs.pk}/").status_code == 404
    response = staff.post(
        f"/push/{library_a.code}/robots/{theirs.pk}/action/", {"action": "disable"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    # Staff without push.robots (delivery desk), patrons and strangers see nothing.
    delivery = client_for(make_staff("delivery_x", library_a, Role.DELIVERY))
    assert delivery.get(f"/push/{library_a.code}/robots/").status_code == 403
    anon = Client()
    listing = anon.get(f"/push/{library_a.code}/robots/")
    assert listing.status_code in (302, 403) and "nefu" not in listing.content.decode()
    response = anon.post(f"/push/{library_a.code}/robots/{mine.pk}/action/", {"action": "disable"})
    assert response.status_code in (302, 403)
    mine.refresh_from_db()
    assert mine.is_active
    # Hostile input: script in the name is shown escaped; unknown actions change nothing.
    staff.post(
        f"/push/{library_a.code}/robots/{mine.pk}/",
        {"name": "<script>x()</script>", "url": "", "fmt": "json", "is_active": "on"},
    )
    html = staff.get(f"/push/{library_a.code}/robots/").content.decode()
    assert "<script>x()" not in html and "&lt;script&gt;" in html
    staff.post(f"/push/{library_a.code}/robots/{mine.pk}/action/", {"action": "delete"})
    assert Robot.objects.filter(pk=mine.pk).exists()
    assert staff.get(f"/push/{library_a.code}/robots/{mine.pk}/action/").status_code == 405
