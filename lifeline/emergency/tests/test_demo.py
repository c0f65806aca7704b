from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from lifeline.core.demo.loader import load_demo
from lifeline.core.models import Notification
from lifeline.emergency.choices import EventStatus, TaskStatus, TimelineKind
from lifeline.emergency.models import Event, EventTask, Plan, PlanVersion, TimelineEntry

TODAY = dt.date(2026, 3, 1)


def _counts(lib: Any) -> dict[str, int]:
    return {
        "plans": Plan.objects.filter(library=lib).count(),
        "versions": PlanVersion.objects.filter(plan__library=lib).count(),
        "events": Event.objects.filter(library=lib).count(),
        "tasks": EventTask.objects.filter(event__library=lib).count(),
        "timeline": TimelineEntry.objects.filter(event__library=lib).count(),
        "notices": Notification.objects.filter(library=lib, kind__startswith="emergency.").count(),
    }


def _client(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.django_db
def test_demo_shows_the_epidemic_the_drill_and_reloads_idempotently(
    settings: Any, tmp_path: Any
) -> None:
    settings.DATA_DIR = tmp_path
    lib = load_demo(TODAY)["library"]
    plan = Plan.objects.get(library=lib)
    assert plan.is_default and plan.current_version == 1

    epidemic = Event.objects.get(library=lib, is_drill=False)
    assert epidemic.status == EventStatus.CLOSED and epidemic.level == 3
    levels = list(
        epidemic.timeline.filter(kind=TimelineKind.LEVEL).values_list("text_en", flat=True)
    )
    assert levels == [
        "Level changed from II to I.",
        "Level changed from I to II.",
        "Level changed from II to III.",
    ]
    tasks = epidemic.tasks.all()
    assert tasks.filter(status=TaskStatus.OPEN).count() == 0
    assert tasks.filter(status=TaskStatus.WITHDRAWN).count() == 1
    assert tasks.filter(status=TaskStatus.NOT_DONE).count() == 1
    done = tasks.filter(status=TaskStatus.DONE).count()
    live = tasks.exclude(status=TaskStatus.WITHDRAWN).count()
    assert done == live - 1 >= 25
    # Late as the seed tells it: the access guide (31 January), CARSI (early March), publishers,
    # the reading campaign and online book selection (April).
    late = {t.key for t in tasks if t.was_late}
    assert late == {
        "access-guide",
        "carsi",
        "publisher-linkage",
        "online-reading",
        "cloud-selection",
    }

    drill = Event.objects.get(library=lib, is_drill=True)
    assert drill.status == EventStatus.CLOSED and drill.declared_at.year == TODAY.year
    assert not drill.tasks.filter(status=TaskStatus.OPEN).exists()
    assert drill.tasks.filter(status=TaskStatus.NOT_DONE).count() == 1
    assert not Event.objects.filter(library=lib, status=EventStatus.OPEN).exists()
    # Nothing queued for sending: the notices of demo events are removed.
    assert not Notification.objects.filter(library=lib, kind__startswith="emergency.").exists()

    first = _counts(lib)
    load_demo(TODAY)
    assert _counts(lib) == first
    assert (
        Event.objects.get(library=lib, is_drill=False).tasks.filter(status=TaskStatus.DONE).count()
        == done
    )

    # Staff pages, in Chinese and in English.
    epidemic = Event.objects.get(library=lib, is_drill=False)
    leader = _client("leader")
    home = leader.get(reverse("emergency:home", args=[lib.code]))
    assert home.status_code == 200
    assert f"{done}/{live}" in home.content.decode()
    board = leader.get(reverse("emergency:event", args=[lib.code, epidemic.pk]) + "?lang=en")
    assert board.status_code == 200
    assert "Level changed from II to I." in board.content.decode()
    review = leader.get(reverse("emergency:review", args=[lib.code, epidemic.pk]))
    assert review.status_code == 200
    text = review.content.decode()
    assert f"{done}/{live}" in text and "95.8%" in text
    plan_page = leader.get(reverse("emergency:plan", args=[lib.code, plan.pk]))
    assert plan_page.status_code == 200

    # Patron page: the services list, no banner (nothing is in force).
    patron = _client("student")
    page = patron.get(reverse("emergency:services", args=[lib.code]))
    assert page.status_code == 200
    assert "8:00–22:00" in page.content.decode()
    assert "图书馆已启动应急预案" not in page.content.decode()
