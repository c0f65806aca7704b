"""The consortium report (each library's column and the sum, for a consortium-level role), the
report's API, and its sending to the leadership group monthly and at stand-down."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import Role
from lifeline.core.models import Library, Notification
from lifeline.emergency.choices import Level
from lifeline.emergency.services import declare, install_default_plan, stand_down
from lifeline.registry.models import Resource
from lifeline.reports import consortium, sending

pytestmark = pytest.mark.django_db
PERIOD = {"start": "2020-01-01", "end": "2020-12-31"}


@pytest.fixture
def office(stranger: Any) -> Any:
    """The consortium office: no library role, the consortium-level permission only."""
    stranger.user_permissions.add(Permission.objects.get(codename="view_consortium"))
    return stranger


@pytest.fixture
def databases(library_a: Library, library_b: Library) -> None:
    for lib, keys in ((library_a, ["cnki", "wanfang", "vip"]), (library_b, ["cnki", "sd"])):
        for key in keys:
            Resource.objects.create(
                library=lib,
                key=key,
                name=key,
                language="foreign" if key == "sd" else "zh",
                first_subscribed=dt.date(2020, 3, 1) if key == "vip" else dt.date(2010, 1, 1),
            )


def test_each_library_and_the_sum(databases: None, library_a: Library, library_b: Library) -> None:
    built = consortium.build([library_a, library_b], dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    rows = {(r.service_key, r.measure, r.label): r for r in built.rows}
    zh = rows[("digital_resources", "databases_zh", "")]
    assert zh.values == [3, 1] and zh.total == 4
    assert rows[("digital_resources", "databases_foreign", "")].total == 1
    assert rows[("digital_resources", "new_databases", "")].values == [1, 0]
    # A rate is never summed: the delivery fill rate is supplied over requested.
    rate = rows[("delivery", "fill_rate", "")]
    assert rate.total is None  # nobody requested anything: no rate, not 0 % or 200 %


def test_fill_rate_is_recomputed_from_its_parts() -> None:
    def row(measure: str, values: list[Any], total: Any) -> consortium.ConsortiumRow:
        return consortium.ConsortiumRow("delivery", "", measure, "", "", "", values, total)

    rows = [
        row("requested", [100, 300], 400),
        row("supplied", [90, 210], 300),
        row("fill_rate", [90.0, 70.0], None),
    ]
    consortium._fill_rate(rows)
    assert rows[2].total == 75.0  # not 160, not 80 (the mean of the rates)


def test_only_the_consortium_role_sees_it(
    databases: None, office: Any, admin_a: Any, leader_a: Any, patron_a: Any
) -> None:
    url = reverse("reports:index")
    page = client_for(office).get(url, PERIOD)
    assert page.status_code == 200
    body = page.content.decode()
    assert "library-a" in body.lower() or "Library A" in body or "图书馆" in body
    sheet = client_for(office).get(url, {**PERIOD, "format": "xlsx"})
    assert sheet.content[:2] == b"PK"
    # A library's leader is sent to their own library's report, a patron is refused.
    leader = client_for(leader_a).get(url)
    assert leader.status_code == 302 and leader["Location"].endswith(
        reverse("reports:report", args=[leader_a.memberships.first().library.code])
    )
    assert client_for(patron_a).get(url).status_code == 403
    api = "/api/reports/consortium/"
    assert client_for(leader_a).get(api, PERIOD).status_code == 403
    data = client_for(office).get(api, PERIOD).json()
    zh = next(r for r in data["rows"] if r["measure"] == "databases_zh")
    assert zh["total"] == 4 and sorted(zh["values"].values()) == [1, 3]


def test_report_api_same_permissions_as_the_page(
    library_a: Library, leader_a: Any, librarian_a: Any, librarian_b: Any
) -> None:
    url = "/api/reports/report/"
    data = client_for(leader_a).get(url, {"library": library_a.code, **PERIOD}).json()
    assert data["library"] == library_a.code
    assert {row["key"] for row in data["table1"]} >= {"delivery", "digital_resources"}
    assert client_for(librarian_a).get(url, {"library": library_a.code}).status_code == 403
    assert client_for(librarian_b).get(url, {"library": library_a.code}).status_code == 403
    assert client_for(leader_a).get(url, {"library": "nosuch"}).status_code == 404
    bad = client_for(leader_a).get(url, {"library": library_a.code, "start": "2020-13-40"})
    assert bad.status_code == 400
    longer = client_for(leader_a).get(
        url, {"library": library_a.code, "start": "1000-01-01", "end": "2020-01-01"}
    )
    assert longer.status_code == 400


def test_monthly_report_goes_once_to_the_leadership_group(
    library_a: Library, leader_a: Any, librarian_a: Any
) -> None:
    leader_a.email = "leader@example.edu"
    leader_a.save()
    assert sending.send_monthly(dt.date(2020, 3, 5)) == 1
    assert sending.send_monthly(dt.date(2020, 3, 20)) == 1  # same month: the same row
    rows = Notification.objects.filter(kind="reports.monthly")
    assert rows.count() == 1
    n = rows.get()
    assert n.recipients == ["leader@example.edu"]
    assert "2020-02-01" in n.subject and "2020-02-29" in n.subject
    assert "service report" in n.body and "服务报告" in n.body  # both languages
    assert "format=xlsx" in n.body
    sending.send_monthly(dt.date(2020, 4, 1))
    assert Notification.objects.filter(kind="reports.monthly").count() == 2


def test_stand_down_sends_the_event_span_but_a_drill_does_not(
    library_a: Library, leader_a: Any
) -> None:
    make_staff("leader2", library_a, Role.LEADERSHIP)
    plan = install_default_plan(library_a)
    t0 = dt.datetime(2020, 1, 27, 9, 0, tzinfo=dt.UTC)
    drill = declare(
        library_a,
        plan,
        category="public_health",
        level=Level.IV,
        scope="全校",
        reason="演练",
        user=leader_a,
        drill=True,
        now=t0,
    )
    stand_down(drill, user=leader_a, now=t0 + dt.timedelta(hours=2))
    assert not Notification.objects.filter(kind="reports.event").exists()
    event = declare(
        library_a,
        plan,
        category="public_health",
        level=Level.I,
        scope="全校",
        reason="新冠肺炎疫情",
        user=leader_a,
        now=t0,
    )
    stand_down(event, user=leader_a, now=dt.datetime(2020, 5, 6, 9, 0, tzinfo=dt.UTC))
    n = Notification.objects.get(kind="reports.event")
    assert n.recipients == ["leader2@example.edu", "leader_a@example.edu"]
    assert "2020-01-27" in n.subject and "2020-05-06" in n.subject


def test_dashboard_panel_for_those_who_may_see_the_report(
    library_a: Library, leader_a: Any, librarian_a: Any
) -> None:
    page = client_for(leader_a).get(reverse("core:dashboard") + f"?library={library_a.code}")
    assert reverse("reports:report", args=[library_a.code]) in page.content.decode()
    other = client_for(librarian_a).get(reverse("core:dashboard") + f"?library={library_a.code}")
    assert reverse("reports:report", args=[library_a.code]) not in other.content.decode()
