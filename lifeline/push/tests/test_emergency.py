"""An emergency activation publishes its plan's announcements; the plan task links to them."""

from __future__ import annotations

from typing import Any

import pytest

from lifeline.core.models import Library
from lifeline.emergency import services as emergency
from lifeline.emergency.models import EventTask
from lifeline.push.choices import State
from lifeline.push.tests.conftest import draft


@pytest.mark.django_db
def test_activation_publishes_the_access_guide_and_links_the_task(
    library_a: Library, leader_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    plan = emergency.install_default_plan(library_a)
    guide = draft(library_a, plan_task_key="access-guide", send_email=False, send_robots=False)
    other = draft(library_a, title="培训", send_email=False, send_robots=False)
    with django_capture_on_commit_callbacks(execute=True):
        event = emergency.declare(
            library_a,
            plan,
            category="public_health",
            level=4,
            scope="全校",
            reason="新冠疫情",
            user=leader_a,
        )
    guide.refresh_from_db()
    other.refresh_from_db()
    assert guide.state == State.PUBLISHED and other.state == State.DRAFT
    task = EventTask.objects.get(event=event, key="access-guide")
    assert guide.emergency_task_id == task.pk and guide.emergency_event_id == event.pk
    assert task.status == "done"
    assert f"/lib/{library_a.code}/news/{guide.pk}/" in task.note


@pytest.mark.django_db
def test_a_drill_publishes_nothing(
    library_a: Library, leader_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    plan = emergency.install_default_plan(library_a)
    guide = draft(library_a, plan_task_key="access-guide", send_email=False, send_robots=False)
    with django_capture_on_commit_callbacks(execute=True):
        emergency.declare(
            library_a, plan, category="public_health", level=4, scope="全校", reason="演练",
            user=leader_a, drill=True,
        )  # fmt: skip
    guide.refresh_from_db()
    assert guide.state == State.DRAFT


@pytest.mark.django_db
def test_an_event_declared_and_stood_down_at_once_still_publishes_without_an_error(
    library_a: Library,
    leader_a: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A past event loaded in one transaction (the demo's 2020 closure): by the time the
    announcement is published the event is closed, so its task cannot change; that is no error."""
    plan = emergency.install_default_plan(library_a)
    guide = draft(library_a, plan_task_key="access-guide", send_email=False, send_robots=False)
    with django_capture_on_commit_callbacks(execute=True):
        event = emergency.declare(
            library_a, plan, category="public_health", level=4, scope="全校", reason="新冠疫情",
            user=leader_a,
        )  # fmt: skip
        emergency.stand_down(event, user=leader_a, note="复课")
    guide.refresh_from_db()
    assert guide.state == State.PUBLISHED and guide.emergency_event_id == event.pk
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
