"""Status sets and kinds of the push app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Topic(models.TextChoices):
    """What an announcement is about; subscribers choose topics."""

    SERVICE = "service", _("Service notice")
    GUIDE = "guide", _("Resource guide")
    EPIDEMIC = "epidemic", _("Epidemic knowledge")
    TRAINING = "training", _("Training")


class State(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("announcement", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("announcement", "Scheduled")
    PUBLISHED = "published", pgettext_lazy("announcement", "Published")
    EXPIRED = "expired", pgettext_lazy("announcement", "Expired")
    WITHDRAWN = "withdrawn", pgettext_lazy("announcement", "Withdrawn")


STATE_COLOURS = {
    State.DRAFT: "grey",
    State.SCHEDULED: "blue",
    State.PUBLISHED: "green",
    State.EXPIRED: "orange",
    State.WITHDRAWN: "red",
}
# Moves an announcement may make; anything else is refused by `Announcement.move`.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.SCHEDULED, State.PUBLISHED, State.WITHDRAWN}),
    State.SCHEDULED: frozenset({State.DRAFT, State.PUBLISHED, State.WITHDRAWN}),
    State.PUBLISHED: frozenset({State.EXPIRED, State.WITHDRAWN}),
    State.EXPIRED: frozenset({State.PUBLISHED, State.WITHDRAWN}),
    State.WITHDRAWN: frozenset({State.DRAFT}),
}


class RunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("push run", "Queued")
    RUNNING = "running", pgettext_lazy("push run", "Sending")
    DONE = "done", pgettext_lazy("push run", "Done")


RUN_COLOURS = {RunStatus.QUEUED: "grey", RunStatus.RUNNING: "blue", RunStatus.DONE: "green"}


class Reaction(models.TextChoices):
    OPEN = "open", pgettext_lazy("e-mail", "Opened")
    CLICK = "click", _("Clicked")
