"""Staff pages (mobile first: leaders act from a phone) and the public "services during the
emergency" page. Thin: every decision is in services.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from lifeline.core.access import PUBLIC, library_for
from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.params import parse_id
from lifeline.core.permissions import user_can
from lifeline.emergency import services
from lifeline.emergency.choices import EventStatus, TaskStatus
from lifeline.emergency.forms import (
    DeclareForm,
    LevelForm,
    MemberFormSet,
    PlanYamlForm,
    StandDownForm,
)
from lifeline.emergency.logic import exports, pdf, review
from lifeline.emergency.logic.document import PlanDocumentError, dump_yaml
from lifeline.emergency.models import Event, EventTask, Plan, pick
from lifeline.registry.models import AccessRoute, Resource


def _staff_library(request: HttpRequest, code: str, action: str = "view") -> Library:
    # The one resolver of a library in a URL (issue 21); views check finer roles after it.
    return library_for(request, code, action)


def _any(request: HttpRequest, library: Library, *actions: str) -> bool:
    return any(user_can(request.user, library, a) for a in actions)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    libraries = list(Library.objects.restrict(request.user).order_by("code"))
    if not libraries:
        raise PermissionDenied
    return redirect("emergency:home", libraries[0].code)


@login_required
def home(request: HttpRequest, library: str) -> HttpResponse:
    lib = _staff_library(request, library)
    events = (
        Event.objects.filter(library=lib)
        .select_related("plan")
        .annotate(
            n_tasks=Count("tasks", filter=~Q(tasks__status=TaskStatus.WITHDRAWN)),
            n_done=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE)),
        )
    )
    return render(
        request,
        "emergency/home.html",
        {
            "library": lib,
            "open_events": [e for e in events if e.status == EventStatus.OPEN],
            "past_events": [e for e in events if e.status == EventStatus.CLOSED][:30],
            "plans": Plan.objects.filter(library=lib),
            "can_declare": user_can(request.user, lib, "emergency.declare"),
            "can_change": user_can(request.user, lib, "emergency.change"),
        },
    )


# --- plans -------------------------------------------------------------------------


@login_required
def plan_detail(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib = _staff_library(request, library)
    plan = get_object_or_404(Plan, library=lib, pk=pk)
    version = _version(plan, request.GET.get("version"))
    return render(
        request,
        "emergency/plan_detail.html",
        {
            "library": lib,
            "plan": plan,
            "version": version,
            "doc": version.document,
            "teams": [_team_view(t) for t in version.teams],
            "versions": plan.versions.all()[:20],
            "can_declare": user_can(request.user, lib, "emergency.declare"),
            "can_change": user_can(request.user, lib, "emergency.change"),
            "services": {
                k: pick(
                    version.document["services"].get(k, ""),
                    version.document["services"].get(f"{k}_en", ""),
                )
                for k in ("reference_hours", "delivery", "notice")
            },
        },
    )


def _team_view(team: dict[str, Any]) -> dict[str, Any]:
    from lifeline.emergency.choices import ROMAN

    return {
        **team,
        "display_name": pick(team["name"], team.get("name_en", "")),
        "display_duty": pick(team.get("duty", ""), team.get("duty_en", "")),
        "members_view": [
            {
                **m,
                "display_name": pick(m["name"], m.get("name_en", "")),
                "display_role": pick(m.get("role", ""), m.get("role_en", "")),
            }
            for m in team["members"]
        ],
        "tasks_view": [
            {
                **t,
                "roman": ROMAN[t["level"]],
                "display_title": pick(t["title"], t.get("title_en", "")),
            }
            for t in sorted(team["tasks"], key=lambda t: (-t["level"], t["due_hours"]))
        ],
    }


def _version(plan: Plan, number: str | None) -> Any:
    if (chosen := parse_id(number)) is not None:
        return get_object_or_404(plan.versions, number=chosen)
    return plan.latest()


@login_required
def plan_edit(request: HttpRequest, library: str, pk: int | None = None) -> HttpResponse:
    lib = _staff_library(request, library, "emergency.change")
    plan = get_object_or_404(Plan, library=lib, pk=pk) if pk else None
    initial = {"text": dump_yaml(plan.latest().document)} if plan else {}
    form = PlanYamlForm(request.POST or None, request.FILES or None, initial=initial)
    error: PlanDocumentError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.import_yaml(
                lib, form.content(), plan=plan, user=request.user, note=form.cleaned_data["note"]
            )
        except PlanDocumentError as exc:
            error = exc
        else:
            messages.success(
                request, _("Plan saved as version %(v)s.") % {"v": saved.current_version}
            )
            return redirect("emergency:plan", lib.code, saved.pk)
    return render(
        request,
        "emergency/plan_edit.html",
        {"library": lib, "plan": plan, "form": form, "error": error},
    )


@login_required
def plan_contacts(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    """The call tree's members and contacts as a form: the part of a plan that changes most."""
    lib = _staff_library(request, library, "emergency.change")
    plan = get_object_or_404(Plan, library=lib, pk=pk)
    doc = plan.latest().document
    teams = [(t["key"], pick(t["name"], t.get("name_en", ""))) for t in doc["teams"]]
    usernames = list(
        get_user_model()
        .objects.filter(memberships__library=lib, memberships__is_active=True)
        .distinct()
        .order_by("username")
        .values_list("username", flat=True)
    )
    initial = [{**m, "team": t["key"]} for t in doc["teams"] for m in t["members"]]
    kwargs = {"teams": teams, "usernames": usernames}
    formset = MemberFormSet(request.POST or None, initial=initial, form_kwargs=kwargs)
    error: PlanDocumentError | None = None
    if request.method == "POST" and formset.is_valid():
        members: dict[str, list[dict[str, Any]]] = {key: [] for key, _label in teams}
        for form in formset:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            members[data["team"]].append(
                {k: v for k, v in data.items() if k not in ("team", "DELETE")}
            )
        new_doc = {**doc, "teams": [{**t, "members": members[t["key"]]} for t in doc["teams"]]}
        try:
            services.save_plan(
                lib, new_doc, plan=plan, user=request.user, note=_("Contacts edited")
            )
        except PlanDocumentError as exc:
            error = exc
        else:
            messages.success(
                request,
                _("Contacts saved; the plan is now version %(v)s.")
                % {"v": plan.current_version + 1},
            )
            return redirect("emergency:plan", lib.code, plan.pk)
    return render(
        request,
        "emergency/plan_contacts.html",
        {"library": lib, "plan": plan, "formset": formset, "error": error},
    )


@login_required
@require_POST
def plan_install_default(request: HttpRequest, library: str) -> HttpResponse:
    lib = _staff_library(request, library, "emergency.change")
    plan = services.install_default_plan(lib, user=request.user)
    messages.success(request, _("The default plan is installed."))
    return redirect("emergency:plan", lib.code, plan.pk)


@login_required
def plan_yaml(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib = _staff_library(request, library)
    plan = get_object_or_404(Plan, library=lib, pk=pk)
    version = _version(plan, request.GET.get("version"))
    response = HttpResponse(
        dump_yaml(version.document), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="plan-{plan.pk}-v{version.number}.yaml"'
    )
    return response


@login_required
def plan_pdf(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib = _staff_library(request, library)
    plan = get_object_or_404(Plan, library=lib, pk=pk)
    version = _version(plan, request.GET.get("version"))
    response = HttpResponse(pdf.plan_pdf(version), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="plan-{plan.pk}-v{version.number}.pdf"'
    return response


# --- events ------------------------------------------------------------------------


@login_required
def declare(request: HttpRequest, library: str) -> HttpResponse:
    lib = _staff_library(request, library)
    if not _any(request, lib, "emergency.declare", "emergency.change"):
        raise PermissionDenied
    plans = Plan.objects.filter(library=lib)
    initial: dict[str, Any] = {}
    if (plan_id := parse_id(request.GET.get("plan"))) is not None:
        initial["plan"] = plan_id
    form = DeclareForm(request.POST or None, plans=plans, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Drills may be run by whoever maintains the plan; a real declaration needs a leader.
        if not data["drill"] and not user_can(request.user, lib, "emergency.declare"):
            form.add_error(
                None, _("Only the leadership or an administrator may declare a real emergency.")
            )
        else:
            try:
                event = services.declare(
                    lib,
                    data["plan"],
                    category=data["category"],
                    level=data["level"],
                    scope=data["scope"],
                    reason=data["reason"],
                    user=request.user,
                    drill=data["drill"],
                )
            except services.EmergencyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Drill started.")
                    if event.is_drill
                    else _("Emergency declared; the teams are being notified."),
                )
                return redirect("emergency:event", lib.code, event.pk)
    return render(
        request,
        "emergency/declare.html",
        {"library": lib, "form": form, "has_plans": plans.exists()},
    )


def _event(request: HttpRequest, library: str, pk: int) -> tuple[Library, Event]:
    lib = _staff_library(request, library)
    return lib, get_object_or_404(
        Event.objects.select_related("plan", "version", "declared_by"), library=lib, pk=pk
    )


@login_required
def event_board(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib, event = _event(request, library, pk)
    now = timezone.now()
    tasks = list(event.tasks.select_related("assignee").order_by("due_at", "position"))
    teams: dict[str, dict[str, Any]] = {}
    for t in tasks:
        t.overdue = t.is_overdue(now)
        t.may_act = services.may_work_on(t, request.user)
        teams.setdefault(t.team_key, {"name": t.display_team, "tasks": []})["tasks"].append(t)
    live = [t for t in tasks if t.status != TaskStatus.WITHDRAWN]
    done = sum(1 for t in live if t.status == TaskStatus.DONE)
    staff = (
        get_user_model()
        .objects.filter(memberships__library=lib, memberships__is_active=True)
        .distinct()
        .order_by("username")
    )
    can_declare = user_can(request.user, lib, "emergency.declare")
    return render(
        request,
        "emergency/event.html",
        {
            "library": lib,
            "event": event,
            "teams": teams.values(),
            "timeline": list(event.timeline.all())[::-1][:50],
            "total": len(live),
            "done": done,
            "percent": round(done * 100 / len(live)) if live else 0,
            "overdue": sum(1 for t in live if getattr(t, "overdue", False)),
            "staff": staff,
            "can_assign": _any(request, lib, "emergency.change", "emergency.declare"),
            "can_lead": can_declare
            or (event.is_drill and user_can(request.user, lib, "emergency.change")),
            "level_form": LevelForm(initial={"level": event.level}),
            "stand_down_form": StandDownForm(),
        },
    )


@login_required
@require_POST
def task_action(request: HttpRequest, library: str, pk: int, task_pk: int) -> HttpResponse:
    lib, event = _event(request, library, pk)
    task = get_object_or_404(EventTask, event=event, pk=task_pk)
    action = request.POST.get("action", "")
    try:
        if action == "assign":
            if not _any(request, lib, "emergency.change", "emergency.declare"):
                raise PermissionDenied
            assignee = (
                get_user_model()
                .objects.filter(pk=parse_id(request.POST.get("assignee")) or 0)
                .first()
            )
            services.assign_task(task, assignee, user=request.user)
        elif action in (TaskStatus.DONE, TaskStatus.NOT_DONE, TaskStatus.OPEN):
            if not services.may_work_on(task, request.user):
                raise PermissionDenied
            services.set_task_status(
                task, action, user=request.user, note=request.POST.get("note", "")[:2000]
            )
        else:
            raise Http404
    except services.EmergencyError as exc:
        messages.error(request, str(exc))
    return redirect(f"{_board_url(lib, event)}#task-{task.pk}")


def _board_url(lib: Library, event: Event) -> str:
    from django.urls import reverse

    return reverse("emergency:event", args=[lib.code, event.pk])


def _may_lead(request: HttpRequest, lib: Library, event: Event) -> bool:
    return user_can(request.user, lib, "emergency.declare") or (
        event.is_drill and user_can(request.user, lib, "emergency.change")
    )


@login_required
@require_POST
def event_level(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib, event = _event(request, library, pk)
    if not _may_lead(request, lib, event):
        raise PermissionDenied
    form = LevelForm(request.POST)
    if form.is_valid():
        try:
            services.change_level(event, form.cleaned_data["level"], user=request.user)
            messages.success(request, _("Level changed."))
        except services.EmergencyError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Choose a response level."))
    return redirect(_board_url(lib, event))


@login_required
@require_POST
def event_stand_down(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib, event = _event(request, library, pk)
    if not _may_lead(request, lib, event):
        raise PermissionDenied
    form = StandDownForm(request.POST)
    if form.is_valid():
        try:
            services.stand_down(event, user=request.user, note=form.cleaned_data["note"])
            messages.success(request, _("Stood down. The review is ready."))
            return redirect("emergency:review", lib.code, event.pk)
        except services.EmergencyError as exc:
            messages.error(request, str(exc))
    return redirect(_board_url(lib, event))


@login_required
def event_review(request: HttpRequest, library: str, pk: int, fmt: str = "html") -> HttpResponse:
    lib, event = _event(request, library, pk)
    data = review.build(event)
    stamp = timezone.localtime(event.declared_at).strftime("%Y%m%d")
    if fmt == "pdf":
        response = HttpResponse(pdf.review_pdf(data), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="review-{stamp}-{event.pk}.pdf"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            exports.review_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="review-{stamp}-{event.pk}.xlsx"'
        return response
    chart = bar_chart(
        [_("Done on time"), _("Done late"), _("Not done"), _("Withdrawn")],
        [data["on_time"], len(data["late"]), len(data["not_done"]), data["withdrawn"]],
        title=_("Tasks"),
    )
    return render(
        request,
        "emergency/review.html",
        {"library": lib, "event": event, "r": data, "chart": chart},
    )


# --- patrons -----------------------------------------------------------------------


@require_safe
def services_page(request: HttpRequest, library: str) -> HttpResponse:
    """What works during the emergency: remote routes first, then delivery and reference."""
    lib = library_for(request, library, PUBLIC)
    event = services.active_event(lib)
    today = timezone.localdate()
    routes = list(
        AccessRoute.objects.off_campus(today)
        .filter(resource__library=lib, resource__is_active=True)
        .select_related("resource", "resource__library")
        .order_by("resource__name", "priority")
    )
    by_resource: dict[int, dict[str, Any]] = {}
    for route in sorted(routes, key=lambda r: (r.resource.name, r.preference, r.priority)):
        by_resource.setdefault(route.resource_id, {"resource": route.resource, "routes": []})[
            "routes"
        ].append(route)
    plan_services: dict[str, str] = {}
    doc = event.version.document if event else _fallback_document(lib)
    if doc:
        plan_services = {
            k: pick(doc["services"].get(k, ""), doc["services"].get(f"{k}_en", ""))
            for k in ("reference_hours", "delivery", "notice")
        }
    return render(
        request,
        "emergency/services.html",
        {
            "library": lib,
            "event": event,
            "resources": list(by_resource.values()),
            "services": plan_services,
            "delivery_url": _delivery_url(lib),
            "expiring_soon": today + dt.timedelta(days=7),
            "no_remote": Resource.objects.filter(
                library=lib, is_active=True, parent__isnull=True
            ).count()
            - len(by_resource),
        },
    )


def _fallback_document(lib: Library) -> dict[str, Any] | None:
    plan = Plan.objects.filter(library=lib).order_by("-is_default", "pk").first()
    return plan.latest().document if plan else None


def _delivery_url(lib: Library) -> str:
    from django.urls import NoReverseMatch, reverse

    for name, args in (
        ("delivery:request", [lib.code]),
        ("delivery:new", [lib.code]),
        ("delivery:home", [lib.code]),
        ("delivery:index", []),
    ):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""
