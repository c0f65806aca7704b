"""Choice sets of the emergency app, each with a badge colour."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventCategory(models.TextChoices):
    """The four classes of the national master plan for public emergencies (2006)."""

    NATURAL_DISASTER = "natural_disaster", _("Natural disaster")
    ACCIDENT = "accident", _("Accident")
    PUBLIC_HEALTH = "public_health", _("Public health")
    SOCIAL_SAFETY = "social_safety", _("Social safety")


CATEGORY_COLOURS = {
    EventCategory.NATURAL_DISASTER: "orange",
    EventCategory.ACCIDENT: "purple",
    EventCategory.PUBLIC_HEALTH: "teal",
    EventCategory.SOCIAL_SAFETY: "indigo",
}


class Level(models.IntegerChoices):
    """Response levels. Integers so that "graver" is a comparison: I (1) is the gravest.

    A task listed at level III applies at III, II and I: graver levels add work, never remove it.
    """

    I = 1, _("Level I (particularly serious)")  # noqa: E741
    II = 2, _("Level II (serious)")
    III = 3, _("Level III (large)")
    IV = 4, _("Level IV (general)")


LEVEL_COLOURS = {Level.I: "red", Level.II: "orange", Level.III: "yellow", Level.IV: "blue"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class EventStatus(models.TextChoices):
    OPEN = "open", _("In force")
    CLOSED = "closed", _("Stood down")


EVENT_STATUS_COLOURS = {EventStatus.OPEN: "red", EventStatus.CLOSED: "grey"}


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    NOT_DONE = "not_done", _("Not done")
    WITHDRAWN = "withdrawn", _("Withdrawn")


TASK_STATUS_COLOURS = {
    TaskStatus.OPEN: "blue",
    TaskStatus.DONE: "green",
    TaskStatus.NOT_DONE: "red",
    TaskStatus.WITHDRAWN: "grey",
}


class TimelineKind(models.TextChoices):
    DECLARED = "declared", _("Declared")
    DRILL = "drill", _("Drill started")
    TASKS_ADDED = "tasks_added", _("Tasks added")
    TASKS_WITHDRAWN = "tasks_withdrawn", _("Tasks withdrawn")
    NOTIFIED = "notified", _("Notified")
    LEVEL = "level", _("Level changed")
    TASK_DONE = "task_done", _("Task done")
    TASK_NOT_DONE = "task_not_done", _("Task not done")
    TASK_REOPENED = "task_reopened", _("Task reopened")
    ASSIGNED = "assigned", _("Assigned")
    OVERDUE = "overdue", _("Overdue")
    NOTE = "note", _("Note")
    STOOD_DOWN = "stood_down", _("Stood down")


TIMELINE_COLOURS = {
    TimelineKind.DECLARED: "red",
    TimelineKind.DRILL: "purple",
    TimelineKind.TASKS_ADDED: "blue",
    TimelineKind.TASKS_WITHDRAWN: "grey",
    TimelineKind.NOTIFIED: "teal",
    TimelineKind.LEVEL: "orange",
    TimelineKind.TASK_DONE: "green",
    TimelineKind.TASK_NOT_DONE: "red",
    TimelineKind.TASK_REOPENED: "yellow",
    TimelineKind.ASSIGNED: "indigo",
    TimelineKind.OVERDUE: "red",
    TimelineKind.NOTE: "grey",
    TimelineKind.STOOD_DOWN: "green",
}
