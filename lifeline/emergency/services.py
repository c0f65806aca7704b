"""Domain functions of the emergency app. Views, API, commands and tasks call these.

Every function that depends on the clock takes `now=` so tests (and replays) can move time.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from lifeline.core import notify
from lifeline.core.audit import acting_as
from lifeline.core.models import Library
from lifeline.emergency import signals
from lifeline.emergency.choices import (
    ROMAN,
    EventCategory,
    EventStatus,
    Level,
    TaskStatus,
    TimelineKind,
)
from lifeline.emergency.logic import notices
from lifeline.emergency.logic.document import PlanDocumentError, load_yaml, validate
from lifeline.emergency.models import Event, EventTask, Plan, PlanVersion, TimelineEntry

DEFAULT_PLAN = Path(__file__).parent / "data" / "default_plan.yaml"
CACHE_KEY = "emergency:active:{}"
CACHE_SECONDS = 300


class EmergencyError(ValueError):
    """A refused action, with a message for the person who tried it."""


# --- plans -------------------------------------------------------------------------


def save_plan(
    library: Library,
    document: dict[str, Any],
    *,
    plan: Plan | None = None,
    user: Any = None,
    note: str = "",
) -> Plan:
    """Create a plan, or add a version to `plan`. Events already running keep their own version."""
    document = validate(document, library=library)
    with transaction.atomic():
        if plan is None:
            if Plan.objects.filter(library=library, name=document["name"]).exists():
                raise PlanDocumentError(
                    _("A plan named “%(name)s” already exists.") % {"name": document["name"]}
                )
            plan = Plan(library=library)
        else:
            plan = Plan.objects.select_for_update().get(pk=plan.pk)
            if (
                Plan.objects.filter(library=library, name=document["name"])
                .exclude(pk=plan.pk)
                .exists()
            ):
                raise PlanDocumentError(
                    _("A plan named “%(name)s” already exists.") % {"name": document["name"]}
                )
        plan.name, plan.name_en = document["name"], document["name_en"]
        plan.categories = "," + ",".join(document["categories"]) + ","
        plan.current_version += 1
        plan.save()
        PlanVersion.objects.create(
            plan=plan,
            number=plan.current_version,
            document=document,
            created_by=user if user is not None and user.is_authenticated else None,
            note=note[:300],
        )
    return plan


def import_yaml(
    library: Library,
    text: str | bytes,
    *,
    plan: Plan | None = None,
    user: Any = None,
    note: str = "",
) -> Plan:
    return save_plan(library, load_yaml(text, library), plan=plan, user=user, note=note)


def install_default_plan(library: Library, *, user: Any = None) -> Plan:
    """The study's plan (sections 3.1–3.2) for the library; the existing one if installed."""
    existing = Plan.objects.filter(library=library, is_default=True).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        plan = import_yaml(library, DEFAULT_PLAN.read_bytes(), user=user, note="default template")
        Plan.objects.filter(pk=plan.pk).update(is_default=True)
        plan.is_default = True
    return plan


# --- timeline ----------------------------------------------------------------------


def _actor(user: Any) -> str:
    return (
        user.get_username()
        if user is not None and getattr(user, "is_authenticated", False)
        else "system"
    )


def log(
    event: Event,
    kind: str,
    render: Any,
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    task: EventTask | None = None,
) -> TimelineEntry:
    """A timeline row, its text rendered now in both languages (`render` calls gettext)."""
    with translation.override("zh-hans"):
        zh = render()
    with translation.override("en"):
        en = render()
    return TimelineEntry.objects.create(
        event=event,
        kind=kind,
        text=zh,
        text_en=en,
        actor=_actor(user),
        at=at or timezone.now(),
        task=task,
    )


# --- activation --------------------------------------------------------------------


def _member_user(member: dict[str, Any]) -> Any:
    if not member.get("user"):
        return None
    return get_user_model().objects.filter(username=member["user"]).first()


def _create_tasks(
    event: Event, level: int, start: dt.datetime, *, floor: int | None = None
) -> list[EventTask]:
    """Tasks of `event.version` applying at `level`, skipping those the event already holds.

    Withdrawn tasks come back (reopened with a new deadline) when the level rises again.
    `floor`: only tasks listed at levels graver than it (used when escalating).
    """
    held = {(t.team_key, t.key): t for t in event.tasks.all()}
    made: list[EventTask] = []
    for position, (team, spec) in enumerate(event.version.tasks_at(level)):
        if floor is not None and spec["level"] >= floor:
            continue
        due = start + dt.timedelta(hours=float(spec["due_hours"]))
        old = held.get((team["key"], spec["key"]))
        if old is not None:
            if old.status == TaskStatus.WITHDRAWN:
                old.status, old.due_at, old.overdue_notified_at = TaskStatus.OPEN, due, None
                old.save(update_fields=["status", "due_at", "overdue_notified_at"])
                made.append(old)
            continue
        members = team["members"]
        member = next((m for m in members if m["name"] == spec.get("assign")), None) or members[0]
        user = _member_user(member)
        made.append(
            EventTask.objects.create(
                event=event,
                team_key=team["key"],
                team_name=team["name"],
                team_name_en=team["name_en"],
                key=spec["key"],
                title=spec["title"],
                title_en=spec["title_en"],
                section=spec["section"],
                level=spec["level"],
                due_hours=Decimal(str(spec["due_hours"])),
                due_at=due,
                position=position,
                assignee=user,
                assignee_name=notices.member_name(member),
                assignee_email=member.get("email") or getattr(user, "email", "") or "",
                created_at=start,
            )
        )
    return made


def declare(
    library: Library,
    plan: Plan,
    *,
    category: str,
    level: int,
    scope: str,
    reason: str,
    user: Any,
    drill: bool = False,
    now: dt.datetime | None = None,
) -> Event:
    """Declare an event (or start a drill): tasks from the plan's current version, notices,
    timeline."""
    now = now or timezone.now()
    if plan.library_id != library.pk:
        raise EmergencyError(_("This plan belongs to another library."))
    if category not in plan.category_list:
        raise EmergencyError(_("The plan does not cover events of this category."))
    if level not in Level.values:
        raise EmergencyError(_("Unknown response level."))
    if not scope.strip() or not reason.strip():
        raise EmergencyError(_("Give the scope and the reason."))
    version = plan.latest()
    try:
        with transaction.atomic(), acting_as(user):
            event = Event.objects.create(
                library=library,
                plan=plan,
                version=version,
                category=category,
                level=level,
                scope=scope.strip(),
                reason=reason.strip(),
                is_drill=drill,
                declared_by=user,
                declared_at=now,
            )
            _start(event, user, now)
            signals.event_declared.send(
                sender=Event,
                event_id=event.pk,
                library=library,
                is_drill=drill,
                level=level,
                category=category,
            )
    except IntegrityError as exc:
        current = Event.objects.filter(
            library=library, status=EventStatus.OPEN, is_drill=False
        ).first()
        if current is None:
            raise
        raise EmergencyError(
            _(
                "An emergency is already in force (declared %(when)s by %(who)s): "
                "raise or lower its level instead."
            )
            % {
                "when": timezone.localtime(current.declared_at).strftime("%Y-%m-%d %H:%M"),
                "who": _actor(current.declared_by),
            }
        ) from exc
    transaction.on_commit(lambda: forget_active(library))
    return event


def _start(event: Event, user: Any, now: dt.datetime) -> None:
    cat = EventCategory(event.category)
    roman = ROMAN[event.level]
    if event.is_drill:
        log(
            event,
            TimelineKind.DRILL,
            lambda: (
                _("Drill started: %(cat)s, level %(level)s. %(reason)s")
                % {"cat": cat.label, "level": roman, "reason": event.reason}
            ),
            user=user,
            at=now,
        )
    else:
        log(
            event,
            TimelineKind.DECLARED,
            lambda: (
                _("Emergency declared: %(cat)s, level %(level)s, scope: %(scope)s. %(reason)s")
                % {"cat": cat.label, "level": roman, "scope": event.scope, "reason": event.reason}
            ),
            user=user,
            at=now,
        )
    tasks = _create_tasks(event, event.level, now)
    signals.tasks_handed_out.send(sender=Event, event=event, tasks=tasks)
    log(
        event,
        TimelineKind.TASKS_ADDED,
        lambda: (
            _("%(n)s tasks handed out from plan version %(v)s.")
            % {"n": len(tasks), "v": event.version.number}
        ),
        user=user,
        at=now,
    )
    count = notices.send_to_teams(
        event,
        kind="emergency.declared",
        key="declared",
        tasks=tasks,
        subject=lambda: notices.subject_line(event, _("Emergency plan activated")),
        body=lambda team, mine: notices.declared_body(event, team, mine),
    )
    log(
        event,
        TimelineKind.NOTIFIED,
        lambda: _("%(n)s notices queued to the teams.") % {"n": count},
        at=now,
    )


def change_level(event: Event, level: int, *, user: Any, now: dt.datetime | None = None) -> Event:
    """Raise (add the graver level's tasks) or lower (withdraw open tasks that no longer apply)."""
    now = now or timezone.now()
    if level not in Level.values:
        raise EmergencyError(_("Unknown response level."))
    with transaction.atomic(), acting_as(user):
        event = Event.objects.select_for_update().get(pk=event.pk)
        if not event.is_open:
            raise EmergencyError(_("This event has been stood down."))
        old = event.level
        if level == old:
            raise EmergencyError(_("The event is already at this level."))
        event.level = level
        event.save(update_fields=["level"])
        log(
            event,
            TimelineKind.LEVEL,
            lambda: (
                _("Level changed from %(old)s to %(new)s.")
                % {"old": ROMAN[old], "new": ROMAN[level]}
            ),
            user=user,
            at=now,
        )
        if level < old:  # graver
            tasks = _create_tasks(event, level, now, floor=old)
            signals.tasks_handed_out.send(sender=Event, event=event, tasks=tasks)
            log(
                event,
                TimelineKind.TASKS_ADDED,
                lambda: (
                    _("%(n)s tasks added for level %(level)s.")
                    % {"n": len(tasks), "level": ROMAN[level]}
                ),
                user=user,
                at=now,
            )
            subject = gettext_noop("Emergency level raised")
        else:
            tasks = list(event.tasks.filter(status=TaskStatus.OPEN, level__lt=level))
            event.tasks.filter(pk__in=[t.pk for t in tasks]).update(status=TaskStatus.WITHDRAWN)
            log(
                event,
                TimelineKind.TASKS_WITHDRAWN,
                lambda: (
                    _("%(n)s open tasks withdrawn: they apply only at graver levels.")
                    % {"n": len(tasks)}
                ),
                user=user,
                at=now,
            )
            subject = gettext_noop("Emergency level lowered")
        key = f"level-{event.timeline.count()}"
        notices.send_to_teams(
            event,
            kind="emergency.level",
            key=key,
            tasks=tasks,
            subject=lambda: notices.subject_line(event, _(subject)),
            body=lambda team, mine: notices.level_body(event, old, mine, raised=level < old),
        )
    transaction.on_commit(lambda: forget_active(event.library))
    return event


def stand_down(event: Event, *, user: Any, note: str = "", now: dt.datetime | None = None) -> Event:
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user):
        event = Event.objects.select_for_update().get(pk=event.pk)
        if not event.is_open:
            raise EmergencyError(_("This event has already been stood down."))
        event.status, event.closed_at, event.closed_by, event.close_note = (
            EventStatus.CLOSED,
            now,
            user,
            note.strip(),
        )
        event.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
        left = event.tasks.filter(status=TaskStatus.OPEN).count()
        log(
            event,
            TimelineKind.STOOD_DOWN,
            lambda: (
                _("Stood down; %(n)s tasks were still open. %(note)s")
                % {"n": left, "note": note.strip()}
            ),
            user=user,
            at=now,
        )
        notices.send_to_teams(
            event,
            kind="emergency.closed",
            key="closed",
            subject=lambda: notices.subject_line(event, _("Emergency stood down")),
            body=lambda team, mine: notices.closed_body(event),
        )
        signals.event_stood_down.send(
            sender=Event,
            event_id=event.pk,
            library=event.library,
            is_drill=event.is_drill,
            start=timezone.localdate(event.declared_at),
            end=timezone.localdate(now),
        )
    transaction.on_commit(lambda: forget_active(event.library))
    return event


# --- tasks -------------------------------------------------------------------------


def may_work_on(task: EventTask, user: Any) -> bool:
    from lifeline.core.permissions import user_can

    lib = task.event.library_id
    return (
        user_can(user, lib, "emergency.change")
        or user_can(user, lib, "emergency.declare")
        or (task.assignee_id is not None and task.assignee_id == user.pk and user_can(user, lib))
    )


def set_task_status(
    which: EventTask | int,
    status: str,
    *,
    user: Any,
    note: str = "",
    now: dt.datetime | None = None,
) -> EventTask:
    """Move a task (or the task with this pk: other apps pass a pk and never touch the table)."""
    now = now or timezone.now()
    pk = which if isinstance(which, int) else which.pk
    if status not in {TaskStatus.DONE, TaskStatus.NOT_DONE, TaskStatus.OPEN}:
        raise EmergencyError(_("Unknown task status."))
    with transaction.atomic(), acting_as(user):
        task = EventTask.objects.select_for_update().select_related("event").get(pk=pk)
        if not task.event.is_open:
            raise EmergencyError(_("This event has been stood down."))
        if task.status == TaskStatus.WITHDRAWN:
            raise EmergencyError(_("This task was withdrawn when the level was lowered."))
        if task.status == status:
            return task
        task.status = status
        task.done_at = None if status == TaskStatus.OPEN else now
        task.done_by = None if status == TaskStatus.OPEN else user
        if note.strip():
            task.note = note.strip()
        task.save(update_fields=["status", "done_at", "done_by", "note"])
        kind = {
            TaskStatus.DONE: TimelineKind.TASK_DONE,
            TaskStatus.NOT_DONE: TimelineKind.TASK_NOT_DONE,
            TaskStatus.OPEN: TimelineKind.TASK_REOPENED,
        }[TaskStatus(status)]
        messages = {
            TaskStatus.DONE: lambda: (
                _("Done: %(task)s%(late)s") % {"task": _title(task), "late": _late(task)}
            ),
            TaskStatus.NOT_DONE: lambda: (
                _("Not done: %(task)s. %(note)s") % {"task": _title(task), "note": task.note}
            ),
            TaskStatus.OPEN: lambda: _("Reopened: %(task)s") % {"task": _title(task)},
        }
        log(task.event, kind, messages[TaskStatus(status)], user=user, at=now, task=task)
    return task


def _title(task: EventTask) -> str:
    return task.display_title


def _late(task: EventTask) -> str:
    return _(" (late)") if task.was_late else ""


def assign_task(
    task: EventTask, assignee: Any, *, user: Any, now: dt.datetime | None = None
) -> EventTask:
    """Hand a task to a staff user of the library."""
    from lifeline.core.permissions import user_can

    now = now or timezone.now()
    if assignee is None or not user_can(assignee, task.event.library_id):
        raise EmergencyError(_("Tasks go to staff of this library."))
    with transaction.atomic(), acting_as(user):
        task.assignee = assignee
        task.assignee_name = assignee.get_full_name() or assignee.get_username()
        task.assignee_email = assignee.email
        task.save(update_fields=["assignee", "assignee_name", "assignee_email"])
        log(
            task.event,
            TimelineKind.ASSIGNED,
            lambda: (
                _("%(task)s assigned to %(who)s.")
                % {"task": _title(task), "who": task.assignee_name}
            ),
            user=user,
            at=now,
            task=task,
        )
        if assignee.email:
            notify.notify_email(
                task.event.library,
                [assignee.email],
                notices.both_subject(lambda: notices.subject_line(task.event, _("A task for you"))),
                notices.both(lambda: notices.task_body(task)),
                kind="emergency.assigned",
            )
    return task


def mark_overdue(now: dt.datetime | None = None) -> int:
    """The periodic job: note each open task past its deadline once; tell its owner and the
    leaders."""
    now = now or timezone.now()
    count = 0
    due = EventTask.objects.overdue(now).filter(
        event__status=EventStatus.OPEN, overdue_notified_at__isnull=True
    )
    for task in due.select_related("event__library", "event__version"):
        with transaction.atomic():
            if not EventTask.objects.filter(pk=task.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            ):
                continue  # another worker took it
            log(
                task.event,
                TimelineKind.OVERDUE,
                lambda task=task: (
                    _("Overdue: %(task)s (due %(due)s, %(who)s)")
                    % {
                        "task": _title(task),
                        "due": timezone.localtime(task.due_at).strftime("%m-%d %H:%M"),
                        "who": task.assignee_name or "-",
                    }
                ),
                at=now,
                task=task,
            )
            leaders = [t for t in task.event.version.teams if t.get("leadership")]
            to = {task.assignee_email} | {a for t in leaders for a in notices.team_addresses(t)}
            to.discard("")
            if to:
                notify.notify_email(
                    task.event.library,
                    sorted(to),
                    notices.both_subject(
                        functools.partial(notices.titled, task.event, gettext_noop("Task overdue"))
                    ),
                    notices.both(functools.partial(notices.task_body, task)),
                    kind="emergency.overdue",
                    dedupe_key=f"emergency:overdue:{task.pk}",
                )
            count += 1
    return count


# --- service mode ------------------------------------------------------------------


def active_event(library: Library) -> Event | None:
    """The real event in force, if any (drills never switch patron pages into service mode)."""
    return (
        Event.objects.filter(library=library, status=EventStatus.OPEN, is_drill=False)
        .select_related("version")
        .first()
    )


def active_summary(library_id: int) -> dict[str, Any] | None:
    """Cached, language-neutral facts for the banner; `False` in the cache means "no event"."""
    key = CACHE_KEY.format(library_id)
    cached = cache.get(key)
    if cached is not None:
        return cached if isinstance(cached, dict) else None
    # values(): one narrow query, no model instances; order_by() drops the default ordering.
    row = (
        Event.objects.filter(library_id=library_id, status=EventStatus.OPEN, is_drill=False)
        .order_by()
        .values("pk", "category", "level", "library__code", "version__document")
        .first()
    )
    value: dict[str, Any] | bool = False
    if row is not None:
        services = row["version__document"].get("services", {})
        value = {
            "id": row["pk"],
            "code": row["library__code"],
            "category": row["category"],
            "level": row["level"],
            "notice": services.get("notice", ""),
            "notice_en": services.get("notice_en", ""),
        }
    cache.set(key, value, CACHE_SECONDS)
    return value if isinstance(value, dict) else None


def forget_active(library: Library | int) -> None:
    """Drop the cached banner facts, and bump the library's patron-page stamp: the registry caches
    whole anonymous pages keyed on it, and a banner must not wait for those to expire."""
    from lifeline.emergency.context_processors import forget_local

    library_id = library if isinstance(library, int) else library.pk
    cache.delete(CACHE_KEY.format(library_id))
    forget_local()
    Library.objects.filter(pk=library_id).update(registry_changed_at=timezone.now())
