"""Publishing: state moves (a row per change), scheduling and expiry, and the fan-out to every
channel. The patron page and the feed read the state; robots get one outbox row each; e-mail is
a push run (`logic/runs.py`) started when the transaction commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core import notify
from lifeline.core.audit import acting_as
from lifeline.push.choices import State
from lifeline.push.logic import html
from lifeline.push.models import Announcement, PushRun, Robot, StateChange


class PublishError(ValueError):
    """A refused move, with a message for the person who tried it."""


def _who(user: Any) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.get_username())
    return "system"


def save_announcement(ann: Announcement, *, user: Any = None) -> Announcement:
    """Sanitise and save (new or edited). The sanitised text is what is stored: nothing unsafe
    reaches any channel."""
    ann.body = html.sanitise(ann.body)
    ann.body_en = html.sanitise(ann.body_en)
    ann.full_clean(exclude=["created_by", "library"])
    with transaction.atomic(), acting_as(user):
        new = ann.pk is None
        if new and user is not None and getattr(user, "is_authenticated", False):
            ann.created_by = user
        ann.save()
        if new:
            StateChange.objects.create(
                announcement=ann, old="", new=ann.state, by=_who(user), note="created"
            )
    return ann


def move(
    ann: Announcement,
    new: str,
    *,
    user: Any = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Announcement:
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user):
        ann = Announcement.objects.select_for_update().get(pk=ann.pk)
        if not ann.may_move(new):
            raise PublishError(
                _("An announcement cannot go from %(old)s to %(new)s.")
                % {"old": ann.get_state_display(), "new": State(new).label}
            )
        old = ann.state
        ann.state = new
        fields = ["state", "updated_at"]
        if new == State.PUBLISHED:
            ann.published_at = now
            fields.append("published_at")
        ann.save(update_fields=fields)
        StateChange.objects.create(
            announcement=ann, old=old, new=new, at=now, by=_who(user), note=note[:300]
        )
        if new == State.PUBLISHED and old != State.EXPIRED:
            _fan_out(ann)
    return ann


def publish(
    ann: Announcement, *, user: Any = None, now: dt.datetime | None = None, note: str = ""
) -> Announcement:
    """Publish now, or schedule when `publish_at` lies ahead."""
    now = now or timezone.now()
    if ann.expires_at and ann.expires_at <= now:
        raise PublishError(_("The expiry has passed: change it first."))
    if ann.publish_at and ann.publish_at > now and ann.state == State.DRAFT:
        return move(ann, State.SCHEDULED, user=user, now=now, note=note)
    return move(ann, State.PUBLISHED, user=user, now=now, note=note)


def page_url(ann: Announcement) -> str:
    return settings.SITE_URL + reverse("push:detail", args=[ann.library.code, ann.pk])


def _fan_out(ann: Announcement) -> None:
    """Inside the publishing transaction: robot rows now, the e-mail run after commit."""
    if ann.send_robots:
        text = html.plain_text(ann.body or ann.body_en)
        if len(text) > 1500:  # robots cap a message (WeCom 4096 bytes): the page has the rest
            text = text[:1500] + "…"
        text += "\n" + page_url(ann)
        for robot in Robot.objects.filter(library=ann.library, is_active=True):
            if robot.topics and f",{ann.topic}," not in f",{robot.topics},":
                continue
            notify.notify_webhook(
                ann.library,
                robot.url,
                title=ann.title or ann.title_en,
                text=text,
                fmt=robot.fmt,
                kind=f"push:{ann.pk}",
                dedupe_key=f"push:{ann.pk}:robot:{robot.pk}",
            )
    if ann.send_email:
        run, created = PushRun.objects.get_or_create(announcement=ann)
        if created:
            transaction.on_commit(lambda: _enqueue(run.pk))


def _enqueue(run_pk: int) -> None:
    from lifeline.push.tasks import push_run

    push_run.enqueue(run_pk)


def tick(now: dt.datetime | None = None) -> tuple[int, int]:
    """The periodic job: publish what is due, expire what is past. (published, expired)"""
    now = now or timezone.now()
    published = expired = 0
    for ann in Announcement.objects.filter(state=State.SCHEDULED, publish_at__lte=now):
        try:
            move(ann, State.PUBLISHED, now=now, note="scheduled")
            published += 1
        except PublishError:
            continue
    for ann in Announcement.objects.filter(state=State.PUBLISHED, expires_at__lte=now):
        try:
            move(ann, State.EXPIRED, now=now, note="expiry")
            expired += 1
        except PublishError:
            continue
    return published, expired


def wechat_html(ann: Announcement, english: bool = False) -> str:
    """For the WeChat official-account editor: paste-ready, every style inline, images absolute."""
    title = (ann.title_en or ann.title) if english else (ann.title or ann.title_en)
    body = (ann.body_en or ann.body) if english else (ann.body or ann.body_en)
    heading = html.INLINE["h2"]
    from django.utils.html import escape

    return (
        f'<section style="font-family:-apple-system,PingFang SC,Microsoft YaHei,sans-serif;">'
        f'<h2 style="{heading}">{escape(title)}</h2>{html.inline_styled(body)}</section>'
    )
