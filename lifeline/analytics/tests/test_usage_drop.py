"""The usage-drop signal: a resource whose use collapses while probes say up → suspected fault."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lifeline.analytics.models import DailyUsage, LogImport
from lifeline.analytics.services import (
    log_usage,
    off_campus_share,
    signal_usage_drops,
    usage_between,
    usage_drops,
)
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource

pytestmark = pytest.mark.django_db
DAY = dt.date(2024, 5, 30)


def history(library: Any, resource: Resource, last_day_uses: int) -> None:
    log = LogImport.objects.create(library=library, filename="ez.log", status="done")
    rows = [
        DailyUsage(
            log_import=log,
            resource=resource,
            day=DAY - dt.timedelta(days=d),
            on_campus=bool(d % 2),
            requests=60,
            investigations=40,
        )
        for d in range(1, 29)
    ]
    rows.append(
        DailyUsage(
            log_import=log,
            resource=resource,
            day=DAY,
            on_campus=False,
            requests=last_day_uses,
            investigations=0,
        )
    )
    DailyUsage.objects.bulk_create(rows)


@pytest.fixture
def cnki(library_a: Any) -> Resource:
    res = Resource.objects.create(library=library_a, key="cnki", name="中国知网")
    route = AccessRoute.objects.create(
        resource=res, kind=RouteKind.PROXY, url="https://www.cnki.net/"
    )
    from lifeline.health.models import ProbeConfig

    ProbeConfig.objects.create(route=route, state="up")
    return res


def test_drop_while_up_raises_a_suspected_fault(library_a: Any, cnki: Resource) -> None:
    from lifeline.health.models import Incident

    history(library_a, cnki, last_day_uses=3)
    assert usage_drops(library_a, DAY) == [
        {
            "resource_id": cnki.pk,
            "day": "2024-05-30",
            "observed": 3,
            "baseline": 100.0,
            "baseline_days": 28,
        }
    ]
    raised = signal_usage_drops(DAY)
    assert len(raised) == 1
    incident = Incident.objects.get(resource=cnki)
    assert incident.kind == "suspected"


def test_no_drop_no_signal_and_down_resources_are_left_to_health(
    library_a: Any, cnki: Resource
) -> None:
    history(library_a, cnki, last_day_uses=80)
    assert usage_drops(library_a, DAY) == []
    DailyUsage.objects.all().delete()
    history(library_a, cnki, last_day_uses=0)
    cnki.routes.first().probe.__class__.objects.update(state="down")
    assert signal_usage_drops(DAY) == []
    # A day without any imported log is not judged.
    assert usage_drops(library_a, DAY + dt.timedelta(days=1)) == []


def test_logs_and_counter_are_not_added_twice(library_a: Any, cnki: Resource) -> None:
    history(library_a, cnki, last_day_uses=10)
    assert log_usage(library_a, DAY, DAY) == {cnki.pk: 10}
    assert usage_between(library_a, DAY - dt.timedelta(days=2), DAY) == {cnki.pk: 130}
    assert off_campus_share(library_a, DAY - dt.timedelta(days=2), DAY) == pytest.approx(70 / 130)
