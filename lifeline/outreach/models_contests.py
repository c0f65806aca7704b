"""Contests with uploaded entries (a recitation contest: audio or video), public voting with one
vote per patron, and judges' scores. Imported by `models.py`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.outreach.choices import ENTRY_COLOURS, EntryStatus, MediaKind
from lifeline.registry.models import Bilingual


class Contest(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        "outreach.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="contests"
    )
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    rules = models.TextField(_("rules"), blank=True)
    rules_en = models.TextField(_("English rules"), blank=True)
    audio = models.BooleanField(_("audio entries"), default=True)
    video = models.BooleanField(_("video entries"), default=True)
    max_mb = models.PositiveIntegerField(_("largest entry (MB)"), default=200)
    entries_open = models.DateTimeField(_("entries open"))
    entries_close = models.DateTimeField(_("entries close"))
    voting_open = models.DateTimeField(_("voting opens"))
    voting_close = models.DateTimeField(_("voting closes"))

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("contest")
        verbose_name_plural = _("contests")
        constraints = [
            models.CheckConstraint(
                condition=Q(entries_close__gt=models.F("entries_open"))
                & Q(voting_close__gt=models.F("voting_open")),
                name="outreach_contest_periods",
            )
        ]

    def __str__(self) -> str:
        return self.display("title")

    @property
    def display_rules(self) -> str:
        return self.display("rules")

    @property
    def media(self) -> list[str]:
        return [k for k, on in ((MediaKind.AUDIO, self.audio), (MediaKind.VIDEO, self.video)) if on]

    def taking_entries(self, now: dt.datetime) -> bool:
        return self.entries_open <= now < self.entries_close

    def voting(self, now: dt.datetime) -> bool:
        return self.voting_open <= now < self.voting_close


def _entry_to(instance: Any, filename: str) -> str:
    # Our own name and the sniffed extension: the patron's file name never reaches the disk.
    return f"outreach/entries/{instance.contest_id}/{uuid.uuid4().hex}.{instance.extension}"


class Entry(models.Model):
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("about the entry"), blank=True, max_length=2000)
    file = models.FileField(upload_to=_entry_to, max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=MediaKind.choices)
    extension = models.CharField(max_length=8)
    mime = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=EntryStatus.choices, default=EntryStatus.SUBMITTED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "contest__library"

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("contest entry")
        verbose_name_plural = _("contest entries")
        constraints = [
            models.UniqueConstraint(fields=["contest", "user"], name="outreach_entry_one_each")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_colour(self) -> str:
        return ENTRY_COLOURS.get(self.status, "grey")


class Vote(models.Model):
    """One per patron per contest: the unique index, not a check in Python, is what holds when
    the same patron votes from two devices at once."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="votes")
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # A keyed hash of the client address (never the address): staff see many votes from one
    # place without the log holding patrons' addresses.
    source = models.CharField(max_length=16, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "contest__library"

    class Meta:
        verbose_name = pgettext_lazy("contest", "vote")
        verbose_name_plural = pgettext_lazy("contest", "votes")
        constraints = [
            models.UniqueConstraint(fields=["contest", "user"], name="outreach_vote_one_each")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} · {self.user_id}"


class JudgeScore(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="scores")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score (0–100)"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "entry__contest__library"

    class Meta:
        verbose_name = _("judge's score")
        verbose_name_plural = _("judges' scores")
        constraints = [
            models.UniqueConstraint(fields=["entry", "judge"], name="outreach_score_one_each"),
            models.CheckConstraint(condition=Q(score__lte=100), name="outreach_score_max"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} · {self.judge_id}: {self.score}"
