"""Announcements written once and pushed to every channel; subscribers; push runs; reactions.

An announcement's body is HTML sanitised on save (`logic/html.py`), so every channel (the patron
page, the feed, e-mail, the WeChat editor export) starts from the same safe markup. Every change
of state is a row (`StateChange`). A push run writes outbox rows in batches with a dedupe key per
(announcement, subscriber), so a run restarted after its worker died never queues twice.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.choices import WebhookFormat
from lifeline.core.fields import EncryptedTextField, EncryptedURLField
from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.push.choices import (
    RUN_COLOURS,
    STATE_COLOURS,
    TRANSITIONS,
    Reaction,
    RunStatus,
    State,
    Topic,
)
from lifeline.registry.models import Bilingual


class AnnouncementQuerySet(RestrictedQuerySet):
    def visible(self, now: dt.datetime | None = None) -> AnnouncementQuerySet:
        """What patrons may read: published, not yet expired."""
        now = now or timezone.now()
        return self.filter(state=State.PUBLISHED).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class Announcement(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(_("topic"), max_length=16, choices=Topic.choices)
    title = models.CharField(pgettext_lazy("announcement", "title"), max_length=200)
    title_en = models.CharField(
        pgettext_lazy("announcement", "English title"), max_length=200, blank=True
    )
    body = models.TextField(_("text"), blank=True)
    body_en = models.TextField(_("English text"), blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    send_email = models.BooleanField(_("e-mail subscribers"), default=True)
    send_robots = models.BooleanField(_("post to group robots"), default=True)
    # The plan task this announcement fulfils (e.g. "access-guide"): when an emergency hands
    # that task out, the announcement is published and the task points at it.
    plan_task_key = models.SlugField(
        _("plan task"),
        max_length=64,
        blank=True,
        help_text=_("Key of the emergency-plan task this announcement fulfils, e.g. access-guide."),
    )
    emergency_event_id = models.PositiveIntegerField(null=True, blank=True)
    emergency_task_id = models.PositiveIntegerField(null=True, blank=True)
    views = models.PositiveIntegerField(_("page views"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnouncementQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-published_at", "-created_at", "-id"]
        indexes = [models.Index(fields=["library", "state", "published_at"])]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")

    def __str__(self) -> str:
        return self.display("title")

    @property
    def state_colour(self) -> str:
        return STATE_COLOURS[State(self.state)]

    @property
    def display_title(self) -> str:
        return self.display("title")

    @property
    def display_body(self) -> str:
        return self.display("body")

    def may_move(self, new: str) -> bool:
        return new in TRANSITIONS.get(self.state, frozenset())

    def clean(self) -> None:
        if self.publish_at and self.expires_at and self.expires_at <= self.publish_at:
            raise ValidationError({"expires_at": _("The expiry must come after publication.")})
        if not (self.title or self.title_en):
            raise ValidationError({"title": _("Give a title in Chinese or in English.")})


class StateChange(models.Model):
    """One row per change of an announcement's state (old, new, when, who, why)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="changes")
    old = models.CharField(max_length=12, choices=State.choices, blank=True)
    new = models.CharField(max_length=12, choices=State.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "announcement__library"

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")

    def __str__(self) -> str:
        return f"{self.old or '-'} → {self.new}"


class Robot(models.Model):
    """A WeCom/DingTalk/Feishu group robot (or a plain JSON webhook) announcements go to."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    url = EncryptedURLField(_("webhook URL"))
    fmt = models.CharField(
        _("format"), max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.WECOM
    )
    topics = models.CharField(_("topics"), max_length=100, default="", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")

    def __str__(self) -> str:
        return self.name


class Subscriber(models.Model):
    """An e-mail address and its topics. The address is personal data: stored encrypted; the
    keyed digest finds an address again (and keeps one row per address) without holding it in
    clear."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    email = EncryptedTextField(_("e-mail"))
    digest = models.CharField(max_length=64)
    # ",service,guide," so one portable `contains` filters on SQLite and PostgreSQL.
    topics = models.CharField(_("topics"), max_length=100, default="")
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["library", "digest"], name="push_subscriber_unique")
        ]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    @property
    def topic_list(self) -> list[str]:
        return [t for t in self.topics.split(",") if t]


class PushRun(models.Model):
    """Sending one announcement to its subscribers: progress for the staff page, and the
    cursor a restarted run continues from."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    cursor = models.PositiveBigIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    restarts = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "announcement__library"

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["announcement"], name="push_one_run_per_announcement")
        ]
        verbose_name = _("push run")
        verbose_name_plural = _("push runs")

    def __str__(self) -> str:
        return f"{self.announcement_id}: {self.status}"

    @property
    def status_colour(self) -> str:
        return RUN_COLOURS[RunStatus(self.status)]


class PushReaction(models.Model):
    """An open (the image in the e-mail, as its footer says) or a click through a signed link."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="reactions"
    )
    kind = models.CharField(max_length=8, choices=Reaction.choices)
    subscriber_id = models.PositiveBigIntegerField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "announcement__library"

    class Meta:
        db_table = "push_reaction"
        indexes = [models.Index(fields=["announcement", "kind"])]
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")

    def __str__(self) -> str:
        return f"{self.kind} {self.announcement_id}"
