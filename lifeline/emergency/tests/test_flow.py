"""The issue's "done when": activate the default plan at level II, escalate to I, finish and miss
tasks with the clock moved, stand down, and get the review as PDF and XLSX."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pymupdf
import pytest
from django.core import mail

from lifeline.core.models import Notification
from lifeline.core.notify import send_pending
from lifeline.emergency import services
from lifeline.emergency.choices import EventStatus, Level, TaskStatus, TimelineKind
from lifeline.emergency.logic import exports, pdf, review
from lifeline.emergency.models import Event, EventTask
from lifeline.emergency.tests.conftest import T0

H = dt.timedelta(hours=1)


def task(event: Event, key: str) -> EventTask:
    return event.tasks.get(key=key)


def test_default_plan_is_the_studys_plan(plan: Any) -> None:
    doc = plan.latest().document
    sections = [t["section"] for t in doc["teams"]]
    assert sections == ["3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.1.5", "3.1.6", "3.1.7", "3.1.8"]
    task_sections = {x["section"] for t in doc["teams"] for x in t["tasks"]}
    assert {"3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5"} <= task_sections
    tasks = {x["key"]: x for t in doc["teams"] for x in t["tasks"]}
    assert (
        tasks["access-guide"]["due_hours"] == 2
        and "off-campus access guide" in tasks["access-guide"]["title_en"]
    )
    assert tasks["vendor-access"]["due_hours"] == 24 and "数据商" in tasks["vendor-access"]["title"]
    assert all(x["title_en"] for x in tasks.values()) and all(t["name_en"] for t in doc["teams"])
    assert sorted(plan.category_list) == sorted(
        ["natural_disaster", "accident", "public_health", "social_safety"]
    )
    # Installing twice keeps one plan.
    assert services.install_default_plan(plan.library).pk == plan.pk


def test_activate_escalate_finish_miss_stand_down_review(
    plan: Any, leader_a: Any, librarian_a: Any
) -> None:
    lib = plan.library
    event = services.declare(
        lib,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="疫情",
        user=leader_a,
        now=T0,
    )
    doc = plan.latest().document
    expected_ii = sum(1 for t in doc["teams"] for x in t["tasks"] if x["level"] >= 2)
    assert event.tasks.count() == expected_ii and expected_ii > 20
    guide = task(event, "access-guide")
    assert guide.due_at == T0 + 2 * H and guide.assignee_email == "eres@library.example.edu"
    assert not event.tasks.filter(level=Level.I).exists()
    # One e-mail per team, sent through the outbox.
    emails = Notification.objects.filter(library=lib, kind="emergency.declared", channel="email")
    assert emails.count() == len(doc["teams"])
    assert send_pending() >= len(doc["teams"])
    assert len(mail.outbox) == len(doc["teams"])
    eres_mail = next(m for m in mail.outbox if "eres@library.example.edu" in m.to)
    assert (
        "发布校外访问指南" in eres_mail.body
        and "Publish the off-campus access guide" in eres_mail.body
    )
    assert list(event.timeline.values_list("kind", flat=True)) == [
        TimelineKind.DECLARED,
        TimelineKind.TASKS_ADDED,
        TimelineKind.NOTIFIED,
    ]

    # Escalate to I, three hours in: the level-I tasks arrive with deadlines from now.
    services.change_level(event, Level.I, user=leader_a, now=T0 + 3 * H)
    watch = task(event, "round-the-clock")
    assert watch.due_at == T0 + 5 * H and event.tasks.count() == expected_ii + 2
    assert Notification.objects.filter(kind="emergency.level").exists()

    # The clock moves: one task on time, one late, one refused, the rest left.
    services.set_task_status(guide, TaskStatus.DONE, user=librarian_a, now=T0 + 1.5 * H)
    services.set_task_status(
        task(event, "vendor-access"), TaskStatus.DONE, user=librarian_a, now=T0 + 30 * H
    )
    services.set_task_status(
        task(event, "publisher-linkage"),
        TaskStatus.NOT_DONE,
        user=librarian_a,
        note="出版社未回复",
        now=T0 + 40 * H,
    )
    assert (
        services.mark_overdue(now=T0 + 6 * H)
        == event.tasks.filter(status="open", due_at__lt=T0 + 6 * H).count()
        > 0
    )
    assert services.mark_overdue(now=T0 + 6 * H) == 0  # once per task
    overdue = Notification.objects.filter(kind="emergency.overdue")
    assert overdue.exists() and all("director@library.example.edu" in n.recipients for n in overdue)

    services.stand_down(event, user=leader_a, note="疫情缓解", now=T0 + 80 * H)
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED
    with pytest.raises(services.EmergencyError):
        services.set_task_status(
            task(event, "convene"), TaskStatus.DONE, user=leader_a, now=T0 + 81 * H
        )

    r = review.build(event)
    assert r["done"] == 2 and r["on_time"] == 1
    assert [t.key for t in r["late"]] == ["vendor-access"]
    assert (
        "publisher-linkage" in {t.key for t in r["not_done"]}
        and len(r["not_done"]) == r["total"] - 2
    )
    assert r["time_to_first_action_hours"] == 1.5 and r["duration_hours"] == 80

    doc_pdf = pymupdf.open(stream=pdf.review_pdf(r), filetype="pdf")
    text = "".join(page.get_text() for page in doc_pdf)
    assert "向每家数据商申请临时校外访问权限" in text
    # The Chinese font is embedded (extension "ttf"), not merely named.
    fonts = {(f[1], f[3]) for page in doc_pdf for f in page.get_fonts()}
    assert any(ext == "ttf" and "WenQuanYiMicroHei" in name for ext, name in fonts)

    wb = openpyxl.load_workbook(io.BytesIO(exports.review_xlsx(r)))
    rows = list(wb.worksheets[1].iter_rows(values_only=True))
    assert len(rows) == event.tasks.count() + 1
    summary = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True)}
    assert any(v == 80 for v in summary.values())


def test_lowering_withdraws_and_raising_again_restores(plan: Any, leader_a: Any) -> None:
    event = services.declare(
        plan.library,
        plan,
        category="accident",
        level=Level.II,
        scope="主馆",
        reason="火灾",
        user=leader_a,
        now=T0,
    )
    ii_only = set(event.tasks.filter(level=Level.II).values_list("key", flat=True))
    services.change_level(event, Level.IV, user=leader_a, now=T0 + H)
    assert (
        set(event.tasks.filter(status=TaskStatus.WITHDRAWN).values_list("key", flat=True))
        >= ii_only
    )
    assert not event.tasks.filter(level__lt=Level.IV, status=TaskStatus.OPEN).exists()
    services.change_level(event, Level.II, user=leader_a, now=T0 + 2 * H)
    back = event.tasks.get(key="carsi")
    assert back.status == TaskStatus.OPEN and back.due_at == T0 + 2 * H + 24 * H
    with pytest.raises(services.EmergencyError, match="已处于"):
        services.change_level(event, Level.II, user=leader_a, now=T0 + 3 * H)


def test_event_keeps_its_plan_version(plan: Any, leader_a: Any, admin_a: Any) -> None:
    event = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.III,
        scope="全校",
        reason="流感",
        user=leader_a,
        now=T0,
    )
    doc = plan.latest().document
    doc["teams"][1]["tasks"].append(
        {"key": "new-task", "title": "新任务", "level": "I", "due_hours": 1}
    )
    services.save_plan(plan.library, doc, plan=plan, user=admin_a, note="added a task")
    plan.refresh_from_db()
    assert plan.current_version == 2
    event.refresh_from_db()
    assert event.version.number == 1
    services.change_level(event, Level.I, user=leader_a, now=T0 + H)
    assert not event.tasks.filter(key="new-task").exists()


def test_second_declaration_is_refused_with_a_message(
    plan: Any, leader_a: Any, admin_a: Any
) -> None:
    services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="a",
        user=leader_a,
        now=T0,
    )
    with pytest.raises(services.EmergencyError, match="leader_a"):
        services.declare(
            plan.library,
            plan,
            category="accident",
            level=Level.I,
            scope="全校",
            reason="b",
            user=admin_a,
            now=T0 + H,
        )
    assert Event.objects.filter(library=plan.library).count() == 1


def test_drill_is_marked_kept_apart_and_does_not_block(
    plan: Any, leader_a: Any, librarian_a: Any
) -> None:
    drill = services.declare(
        plan.library,
        plan,
        category="natural_disaster",
        level=Level.III,
        scope="演练",
        reason="年度演练",
        user=librarian_a,
        drill=True,
        now=T0,
    )
    assert drill.is_drill and drill.timeline.first().kind == TimelineKind.DRILL
    assert (
        Notification.objects.filter(kind="emergency.declared").first().subject.startswith("[演练]")
    )
    assert services.active_summary(plan.library.pk) is None  # no banner for patrons
    real = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="真实",
        user=leader_a,
        now=T0 + H,
    )
    assert list(Event.objects.real().open()) == [real]
    services.forget_active(plan.library)  # on_commit does this in production; tests never commit
    assert services.active_summary(plan.library.pk)["id"] == real.pk
    r = review.build(drill)
    assert "This was a drill" in "".join(
        p.get_text() for p in pymupdf.open(stream=_pdf_en(r), filetype="pdf")
    )


def _pdf_en(r: dict[str, Any]) -> bytes:
    from django.utils import translation

    with translation.override("en"):
        return pdf.review_pdf(r)


def test_overdue_job_runs_from_the_scheduler(plan: Any, leader_a: Any) -> None:
    from lifeline.core.schedule import run_due
    from lifeline.emergency.schedule import JOBS

    event = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.IV,
        scope="全校",
        reason="x",
        user=leader_a,
        now=dt.datetime.now(dt.UTC) - 100 * H,
    )
    assert run_due(jobs=JOBS) == ["emergency.overdue"]
    assert event.tasks.filter(overdue_notified_at__isnull=False).count() == event.tasks.count()
    assert event.timeline.filter(kind=TimelineKind.OVERDUE).count() == event.tasks.count()
