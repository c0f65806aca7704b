"""Emergency plans, their versions, the events run from them, their tasks and timelines.

A plan's content lives in `PlanVersion.document` (the same structure as the YAML export):
every edit writes a new version, and an event points at the version it started with, so
editing a plan during an emergency never changes the work already handed out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.emergency.choices import (
    CATEGORY_COLOURS,
    EVENT_STATUS_COLOURS,
    LEVEL_COLOURS,
    ROMAN,
    TASK_STATUS_COLOURS,
    TIMELINE_COLOURS,
    EventCategory,
    EventStatus,
    Level,
    TaskStatus,
    TimelineKind,
)
from lifeline.registry.models import Bilingual


def _english() -> bool:
    return (get_language() or "").startswith("en")


def pick(zh: str, en: str) -> str:
    """The English text in English when there is one, else the Chinese."""
    return en if en and _english() else zh


class Plan(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="emergency_plans")
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    # ",public_health,accident," so one portable `contains` filters on SQLite and PostgreSQL.
    categories = models.CharField(_("event categories"), max_length=200, default="")
    is_default = models.BooleanField(_("installed from the default template"), default=False)
    current_version = models.PositiveIntegerField(_("current version"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["library", "name"], name="emergency_plan_unique_name")
        ]
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")

    def __str__(self) -> str:
        return self.display("name")

    @property
    def category_list(self) -> list[str]:
        return [c for c in self.categories.split(",") if c]

    def category_labels(self) -> list[tuple[str, str, str]]:
        return [
            (c, str(EventCategory(c).label), CATEGORY_COLOURS[EventCategory(c)])
            for c in self.category_list
            if c in EventCategory.values
        ]

    def latest(self) -> PlanVersion:
        # Lists prefetch "versions": pick from those rather than one query per plan.
        cached = getattr(self, "_prefetched_objects_cache", {}).get("versions")
        if cached is not None:
            return next(v for v in cached if v.number == self.current_version)
        return self.versions.get(number=self.current_version)


class PlanVersion(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    document = models.JSONField(pgettext_lazy("plan", "content"))
    note = models.CharField(_("change note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "plan__library"

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"], name="emergency_version_unique_number"
            )
        ]
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"

    @property
    def teams(self) -> list[dict[str, Any]]:
        return list(self.document.get("teams", []))

    def tasks_at(self, level: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(team, task) pairs that apply at `level`: a task listed at N applies at N and graver."""
        return [
            (team, task)
            for team in self.teams
            for task in team.get("tasks", [])
            if level <= task["level"]
        ]

    def members(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for team in self.teams:
            for m in team.get("members", []):
                seen.setdefault(m.get("email") or m.get("user") or m["name"], m)
        return list(seen.values())


class EventQuerySet(RestrictedQuerySet):
    def open(self) -> EventQuerySet:
        return self.filter(status=EventStatus.OPEN)

    def real(self) -> EventQuerySet:
        """Real events only: drills stay out of every statistic."""
        return self.filter(is_drill=False)


class Event(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="emergency_events")
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="events", verbose_name=_("plan")
    )
    version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="events", verbose_name=_("plan version")
    )
    category = models.CharField(_("category"), max_length=20, choices=EventCategory.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    scope = models.CharField(
        _("scope"), max_length=300, help_text=_("Who and what is affected, e.g. the whole campus.")
    )
    reason = models.TextField(_("reason"))
    is_drill = models.BooleanField(_("drill"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.OPEN
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("declared by"),
    )
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("stood down by"),
    )
    closed_at = models.DateTimeField(_("stood down"), null=True, blank=True)
    close_note = models.TextField(_("closing note"), blank=True)

    objects = EventQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-declared_at", "-id"]
        constraints = [
            # Two leaders pressing "declare" at once get one event: the second insert fails here.
            models.UniqueConstraint(
                fields=["library"],
                condition=Q(status="open", is_drill=False),
                name="emergency_one_open_real_event",
            ),
        ]
        verbose_name = _("emergency event")
        verbose_name_plural = _("emergency events")

    def __str__(self) -> str:
        kind = _("Drill") if self.is_drill else self.get_category_display()
        return (
            f"{kind} · {self.level_roman} · {timezone.localtime(self.declared_at):%Y-%m-%d %H:%M}"
        )

    @property
    def is_open(self) -> bool:
        return self.status == EventStatus.OPEN

    @property
    def level_roman(self) -> str:
        return ROMAN[self.level]

    @property
    def level_colour(self) -> str:
        return LEVEL_COLOURS[Level(self.level)]

    @property
    def category_colour(self) -> str:
        return CATEGORY_COLOURS[EventCategory(self.category)]

    @property
    def status_colour(self) -> str:
        return EVENT_STATUS_COLOURS[EventStatus(self.status)]

    def live_tasks(self) -> models.QuerySet[EventTask]:
        return self.tasks.exclude(status=TaskStatus.WITHDRAWN)


class EventTaskQuerySet(RestrictedQuerySet):
    def overdue(self, now: dt.datetime) -> EventTaskQuerySet:
        return self.filter(status=TaskStatus.OPEN, due_at__lt=now)


class EventTask(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tasks")
    team_key = models.SlugField(max_length=64)
    team_name = models.CharField(_("team"), max_length=200)
    team_name_en = models.CharField(max_length=200, blank=True)
    key = models.SlugField(max_length=64)
    title = models.CharField(_("task"), max_length=500)
    title_en = models.CharField(max_length=500, blank=True)
    section = models.CharField(_("plan section"), max_length=20, blank=True)
    level = models.PositiveSmallIntegerField(_("from level"), choices=Level.choices)
    due_hours = models.DecimalField(_("within hours"), max_digits=7, decimal_places=2)
    due_at = models.DateTimeField(_("due"))
    position = models.PositiveIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="emergency_tasks",
        verbose_name=_("assignee"),
    )
    assignee_name = models.CharField(_("assignee"), max_length=120, blank=True)
    assignee_email = models.EmailField(blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(_("finished"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = EventTaskQuerySet.as_manager()
    library_lookup = "event__library"

    class Meta:
        ordering = ["due_at", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "team_key", "key"], name="emergency_task_unique"
            )
        ]
        verbose_name = _("event task")
        verbose_name_plural = _("event tasks")

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return pick(self.title, self.title_en)

    @property
    def display_team(self) -> str:
        return pick(self.team_name, self.team_name_en)

    @property
    def status_colour(self) -> str:
        return TASK_STATUS_COLOURS[TaskStatus(self.status)]

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.status == TaskStatus.OPEN and self.due_at < (now or timezone.now())

    @property
    def was_late(self) -> bool:
        return (
            self.status == TaskStatus.DONE
            and self.done_at is not None
            and self.done_at > self.due_at
        )


class TimelineEntry(models.Model):
    """One step of an event. Text is written in both languages when the step happens."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=TimelineKind.choices)
    text = models.TextField(_("text"))
    text_en = models.TextField(blank=True)
    actor = models.CharField(_("by"), max_length=150, blank=True)
    task = models.ForeignKey(
        EventTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "event__library"

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return self.display_text

    @property
    def display_text(self) -> str:
        return pick(self.text, self.text_en)

    @property
    def colour(self) -> str:
        return TIMELINE_COLOURS[TimelineKind(self.kind)]
