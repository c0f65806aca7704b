"""Pages, API, permissions, both languages, the banner and the services page."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pymupdf
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.emergency import services
from lifeline.emergency.choices import Level, TaskStatus
from lifeline.emergency.models import Event, Plan
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource


def url(name: str, *args: Any) -> str:
    return reverse(f"emergency:{name}", args=args)


def declare_form(plan: Plan, **extra: Any) -> dict[str, Any]:
    return {
        "plan": plan.pk,
        "category": "public_health",
        "level": "2",
        "scope": "全校",
        "reason": "疫情",
        **extra,
    }


def test_leader_declares_from_the_form(plan: Plan, leader_a: Any) -> None:
    c = client_for(leader_a)
    assert c.get(url("declare", "nefu")).status_code == 200
    r = c.post(url("declare", "nefu"), declare_form(plan))
    event = Event.objects.get()
    assert r.status_code == 302 and r["Location"] == url("event", "nefu", event.pk)
    page = c.get(r["Location"]).content.decode()
    assert "发布校外访问指南" in page and "全校" in page
    # A second declaration is refused with a message, not a 500 and not a second event.
    r = c.post(url("declare", "nefu"), declare_form(plan, category="accident"))
    assert r.status_code == 200 and "leader_a" in r.content.decode()
    assert Event.objects.count() == 1


def test_declare_permissions(
    plan: Plan, librarian_a: Any, tech_a: Any, librarian_b: Any, patron_a: Any
) -> None:
    # An e-resources librarian may run a drill but not declare a real emergency.
    c = client_for(librarian_a)
    r = c.post(url("declare", "nefu"), declare_form(plan))
    assert r.status_code == 200 and not Event.objects.exists()
    r = c.post(url("declare", "nefu"), declare_form(plan, drill="on"))
    assert r.status_code == 302 and Event.objects.get().is_drill
    assert client_for(tech_a).get(url("declare", "nefu")).status_code == 403
    assert client_for(librarian_b).get(url("home", "nefu")).status_code == 403
    assert client_for(patron_a).get(url("home", "nefu")).status_code == 403
    assert Client().get(url("home", "nefu")).status_code == 302


def test_board_tasks_level_stand_down_review(
    plan: Plan, leader_a: Any, librarian_a: Any, tech_a: Any
) -> None:
    event = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="疫情",
        user=leader_a,
    )
    guide = event.tasks.get(key="access-guide")
    lib_client, tech_client = client_for(librarian_a), client_for(tech_a)
    # tech_a is not the assignee and has no emergency role: refused.
    assert (
        tech_client.post(url("task", "nefu", event.pk, guide.pk), {"action": "done"}).status_code
        == 403
    )
    r = lib_client.post(url("task", "nefu", event.pk, guide.pk), {"action": "done"})
    assert r.status_code == 302
    guide.refresh_from_db()
    assert guide.status == TaskStatus.DONE and guide.done_by == librarian_a
    carsi = event.tasks.get(key="carsi")
    lib_client.post(
        url("task", "nefu", event.pk, carsi.pk), {"action": "assign", "assignee": tech_a.pk}
    )
    carsi.refresh_from_db()
    assert carsi.assignee == tech_a
    # Now the assignee may tick it off from a phone.
    assert (
        tech_client.post(
            url("task", "nefu", event.pk, carsi.pk), {"action": "not_done"}
        ).status_code
        == 302
    )
    # Only a leader changes the level or stands down.
    assert lib_client.post(url("level", "nefu", event.pk), {"level": "1"}).status_code == 403
    leader = client_for(leader_a)
    leader.post(url("level", "nefu", event.pk), {"level": "1"})
    event.refresh_from_db()
    assert event.level == Level.I
    r = leader.post(url("stand_down", "nefu", event.pk), {"note": "结束"})
    assert r.status_code == 302 and r["Location"] == url("review", "nefu", event.pk)
    page = leader.get(r["Location"]).content.decode()
    assert "<svg" in page
    pdf = leader.get(url("review_pdf", "nefu", event.pk))
    assert pdf["Content-Type"] == "application/pdf"
    assert "结束" in "".join(p.get_text() for p in pymupdf.open(stream=pdf.content, filetype="pdf"))
    xlsx = leader.get(url("review_xlsx", "nefu", event.pk))
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert len(wb.sheetnames) >= 3


def test_both_languages(plan: Plan, leader_a: Any) -> None:
    event = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="疫情",
        user=leader_a,
    )
    c = client_for(leader_a)
    assert c.get(reverse("emergency:index"))["Location"] == url("home", "nefu")
    home = c.get(url("home", "nefu")).content.decode()
    assert url("event", "nefu", event.pk) in home and "0 项" in home
    zh = c.get(url("event", "nefu", event.pk)).content.decode()
    assert "完成" in zh and "发布校外访问指南" in zh and "公共卫生" in zh
    c.cookies["lifeline_lang"] = "en"
    en = c.get(url("event", "nefu", event.pk)).content.decode()
    assert (
        "Publish the off-campus access guide" in en and "Public health" in en and "Stand down" in en
    )
    en_plan = c.get(url("plan", "nefu", plan.pk)).content.decode()
    assert "Emergency leadership group" in en_plan and "Call tree" in en_plan
    with_xlsx = c.get(url("review_xlsx", "nefu", event.pk))
    assert "Summary" in openpyxl.load_workbook(io.BytesIO(with_xlsx.content)).sheetnames


def test_plan_pages_edit_import_export(plan: Plan, librarian_a: Any, leader_a: Any) -> None:
    c = client_for(librarian_a)
    assert "应急领导小组" in c.get(url("plan", "nefu", plan.pk)).content.decode()
    exported = c.get(url("plan_yaml", "nefu", plan.pk)).content.decode()
    assert "vendor-access" in exported
    edited = exported.replace("due_hours: 2", "due_hours: 3", 1)
    r = c.post(url("plan_edit", "nefu", plan.pk), {"text": edited, "note": "slower"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.current_version == 2
    r = c.post(
        url("plan_edit", "nefu", plan.pk),
        {"text": exported.replace("due_hours: 2", "due_hours: -1", 1)},
    )
    assert r.status_code == 200 and "第" in r.content.decode() and "行" in r.content.decode()
    plan.refresh_from_db()
    assert plan.current_version == 2
    pdf = c.get(url("plan_pdf", "nefu", plan.pk) + "?version=1")
    assert pdf.content.startswith(b"%PDF")
    # The leadership may read the plan but not edit it.
    assert client_for(leader_a).get(url("plan_edit", "nefu", plan.pk)).status_code == 403


def test_new_plan_by_upload_and_default_install(library_a: Any, librarian_a: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client_for(librarian_a)
    r = c.post(url("plan_install_default", "nefu"))
    assert r.status_code == 302 and Plan.objects.filter(is_default=True).count() == 1
    upload = SimpleUploadedFile(
        "p.yaml", "name: 小预案\nteams:\n  - name: 组\n    members: [{name: 甲}]\n".encode()
    )
    r = c.post(url("plan_new", "nefu"), {"file": upload})
    assert r.status_code == 302 and Plan.objects.filter(name="小预案").exists()


def test_load_default_plan_command(library_a: Any) -> None:
    out = io.StringIO()
    call_command("load_default_plan", "--library", "nefu", stdout=out)
    call_command("load_default_plan", "--library", "nefu", stdout=out)
    assert Plan.objects.filter(library=library_a).count() == 1 and "nefu" in out.getvalue()


def test_banner_on_patron_pages_and_cached(
    plan: Plan, leader_a: Any, django_assert_max_num_queries: Any
) -> None:
    from lifeline.emergency.context_processors import active_emergency

    client = Client()
    az = reverse("registry:az", args=["nefu"])
    assert "banner-emergency" not in client.get(az).content.decode()
    event = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="疫情",
        user=leader_a,
    )
    services.forget_active(
        plan.library
    )  # the test transaction never commits, so on_commit never runs
    page = client.get(az).content.decode()
    assert "banner-emergency" in page and url("services", "nefu") in page and "CARSI" in page
    request = client.get(az).wsgi_request
    with django_assert_max_num_queries(0):
        assert active_emergency(request)["active_emergency"]["services_url"] == url(
            "services", "nefu"
        )
    services.stand_down(event, user=leader_a)
    services.forget_active(plan.library)
    assert "banner-emergency" not in client.get(az).content.decode()


def test_services_page_lists_remote_routes_first(
    plan: Plan, leader_a: Any, english: Client
) -> None:
    lib = plan.library
    remote = Resource.objects.create(library=lib, key="cnki", name="中国知网", name_en="CNKI")
    AccessRoute.objects.create(
        resource=remote,
        kind=RouteKind.CARSI,
        sp_login_url="https://fsso.cnki.net/Shibboleth.sso/Login",
        target="https://www.cnki.net/",
    )
    AccessRoute.objects.create(
        resource=remote, kind=RouteKind.CAMPUS_IP, url="https://www.cnki.net/"
    )
    Resource.objects.create(library=lib, key="walkin", name="馆内库", name_en="Walk-in only")
    services.declare(
        lib,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="疫情",
        user=leader_a,
    )
    page = english.get(url("services", "nefu")).content.decode()
    assert "CNKI" in page and "Walk-in only" not in page and "entityID=" in page
    assert "Reference help daily 8:00" in page and "1 resource works on campus only" in page
    assert "/delivery/nefu/new/" in page


def test_dashboard_panel(plan: Plan, leader_a: Any) -> None:
    event = services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.II,
        scope="全校",
        reason="疫情",
        user=leader_a,
    )
    page = client_for(leader_a).get(reverse("core:dashboard")).content.decode()
    assert url("declare", "nefu") in page
    # The running event is on the panel with its level and task progress.
    assert f"/events/{event.pk}/" in page and 'class="badge orange">II<' in page
    assert f"{event.tasks.count()} 项任务已完成 0 项" in page


@pytest.mark.parametrize("who", ["leader_a", "admin_a"])
def test_api_declare_level_tasks_stand_down(
    plan: Plan, who: str, request: Any, librarian_a: Any, django_assert_max_num_queries: Any
) -> None:
    user = request.getfixturevalue(who)
    c = client_for(user)
    r = c.post(
        "/api/emergency/events/",
        {
            "plan": plan.pk,
            "category": "public_health",
            "level": 2,
            "scope": "全校",
            "reason": "疫情",
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    event_id = r.json()["id"]
    assert len(r.json()["tasks"]) > 20
    r = c.post(
        "/api/emergency/events/",
        {"plan": plan.pk, "category": "accident", "level": 1, "scope": "全校", "reason": "again"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "detail" in r.json()
    task_id = next(
        t["id"]
        for t in c.get(f"/api/emergency/tasks/?event={event_id}").json()["results"]
        if t["key"] == "access-guide"
    )
    r = client_for(librarian_a).post(
        f"/api/emergency/tasks/{task_id}/update/",
        {"status": "done"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert (
        client_for(librarian_a)
        .post(
            f"/api/emergency/events/{event_id}/level/",
            {"level": 1},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    assert (
        c.post(
            f"/api/emergency/events/{event_id}/level/",
            {"level": 1},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert (
        c.post(
            f"/api/emergency/events/{event_id}/stand-down/", {}, content_type="application/json"
        ).json()["status"]
        == "closed"
    )
    with django_assert_max_num_queries(12):
        assert c.get("/api/emergency/events/").json()["count"] == 1
    services.save_plan(plan.library, {**plan.latest().document, "name": "第二预案"}, user=user)
    with django_assert_max_num_queries(6):
        plans = c.get("/api/emergency/plans/").json()["results"]
    assert len(plans) == 2 and plans[0]["document"]["teams"][0]["key"] == "leadership"


def test_api_import_reports_the_line(library_a: Any, librarian_a: Any, librarian_b: Any) -> None:
    c = client_for(librarian_a)
    r = c.post(
        "/api/emergency/plans/import/",
        {"library": "nefu", "yaml": "name: x\nteams: [\n"},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["line"] == 3
    ok = "name: 小预案\nteams:\n  - name: 组\n    members: [{name: 甲}]\n"
    assert (
        client_for(librarian_b)
        .post(
            "/api/emergency/plans/import/",
            {"library": "nefu", "yaml": ok},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    assert (
        c.post(
            "/api/emergency/plans/import/",
            {"library": "nefu", "yaml": ok},
            content_type="application/json",
        ).status_code
        == 201
    )
    assert client_for(librarian_b).get("/api/emergency/plans/").json()["count"] == 0


def test_admin_lists_plans_and_events(
    plan: Plan, admin_a: Any, leader_a: Any, librarian_b: Any
) -> None:
    services.declare(
        plan.library,
        plan,
        category="public_health",
        level=Level.III,
        scope="全校",
        reason="x",
        user=leader_a,
    )
    c = client_for(admin_a)
    assert "突发公共事件资源服务应急预案" in c.get("/admin/emergency/plan/").content.decode()
    event = Event.objects.get()
    assert c.get(f"/admin/emergency/event/{event.pk}/change/").status_code == 200
    assert (
        "突发公共事件" not in client_for(librarian_b).get("/admin/emergency/plan/").content.decode()
    )


def _formset_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send for the contacts page as rendered."""
    formset = response.context["formset"]
    data: dict[str, Any] = {f"form-{k}": v for k, v in formset.management_form.initial.items()}
    for i, form in enumerate(formset.forms):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if isinstance(value, bool):
                if value:
                    data[f"form-{i}-{name}"] = "on"
            elif value is not None:
                data[f"form-{i}-{name}"] = value
    return data


def test_contacts_editor(plan: Plan, librarian_a: Any, leader_a: Any) -> None:
    c = client_for(librarian_a)
    page = c.get(url("plan_contacts", "nefu", plan.pk))
    assert page.status_code == 200 and "0451-00000001" in page.content.decode()
    data = _formset_data(page)
    data["form-0-phone"] = "13900000000"
    data["form-0-user"] = "leader_a"
    last = int(data["form-TOTAL_FORMS"]) - 1  # the blank row for a new member
    data.update(
        {
            f"form-{last}-team": "reading",
            f"form-{last}-name": "新馆员",
            f"form-{last}-call_order": "2",
            f"form-{last}-email": "new@example.edu",
        }
    )
    r = c.post(url("plan_contacts", "nefu", plan.pk), data)
    assert r.status_code == 302, r.context["formset"].errors if r.context else r
    plan.refresh_from_db()
    doc = plan.latest().document
    director = doc["teams"][0]["members"][0]
    assert (
        plan.current_version == 2
        and director["phone"] == "13900000000"
        and director["user"] == "leader_a"
    )
    assert [m["name"] for m in doc["teams"][-1]["members"]] == ["阅读推广馆员", "新馆员"]
    # Removing the only member of a team is refused, with the reason, and nothing is saved.
    page = c.get(url("plan_contacts", "nefu", plan.pk))
    data = _formset_data(page)
    rules = next(
        i for i, f in enumerate(page.context["formset"].forms) if f.initial.get("team") == "rules"
    )
    data[f"form-{rules}-DELETE"] = "on"
    r = c.post(url("plan_contacts", "nefu", plan.pk), data)
    assert r.status_code == 200 and "没有成员" in r.content.decode()
    plan.refresh_from_db()
    assert plan.current_version == 2
    assert client_for(leader_a).get(url("plan_contacts", "nefu", plan.pk)).status_code == 403
