"""Reach per announcement and channel, from the outbox rows and the reactions.

Site: page views. Feed: readers fetch it anonymously, so no figure. E-mail: sent, failed and
waiting from the outbox rows; opens (the image in the message, disclosed in its footer; a mail
program that blocks images counts nothing) and clicks (the signed redirect). Robots: sent and
failed (WeCom/DingTalk/Feishu do not tell who read a group message).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from lifeline.core.choices import Channel, NotificationStatus
from lifeline.core.models import Library, Notification
from lifeline.push.models import Announcement, PushReaction


def reach(announcements: list[Announcement]) -> dict[int, dict[str, int]]:
    """{announcement id: figures} in three queries whatever the number of announcements."""
    out: dict[int, dict[str, int]] = {
        a.pk: {
            "views": a.views,
            "email_sent": 0,
            "email_failed": 0,
            "email_waiting": 0,
            "robot_sent": 0,
            "robot_failed": 0,
            "opens": 0,
            "clicks": 0,
        }
        for a in announcements
    }
    if not out:
        return out
    kinds = {f"push:{pk}": pk for pk in out}
    rows = (
        Notification.objects.filter(kind__in=list(kinds))
        .values("kind", "channel", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        figures = out[kinds[row["kind"]]]
        prefix = "email" if row["channel"] == Channel.EMAIL else "robot"
        if row["status"] == NotificationStatus.SENT:
            figures[f"{prefix}_sent"] += row["n"]
        elif row["status"] == NotificationStatus.FAILED:
            figures[f"{prefix}_failed"] += row["n"]
        elif prefix == "email":
            figures["email_waiting"] += row["n"]
    reactions = (
        PushReaction.objects.filter(announcement_id__in=list(out))
        .values("announcement_id")
        .annotate(
            opens=Count("subscriber_id", filter=Q(kind="open"), distinct=True),
            clicks=Count("id", filter=Q(kind="click")),
        )
        .order_by()
    )
    for r in reactions:
        out[r["announcement_id"]]["opens"] = r["opens"]
        out[r["announcement_id"]]["clicks"] = r["clicks"]
    return out


def columns() -> list[tuple[str, str]]:
    return [
        ("views", _("Page views")),
        ("email_sent", _("E-mails sent")),
        ("email_failed", _("E-mails failed")),
        ("email_waiting", _("E-mails waiting")),
        ("opens", _("Opened")),
        ("clicks", _("Clicks")),
        ("robot_sent", _("Robot posts sent")),
        ("robot_failed", _("Robot posts failed")),
    ]


def published_between(library: Library, start: dt.date, end: dt.date) -> list[Announcement]:
    return list(
        Announcement.objects.filter(
            library=library, published_at__date__gte=start, published_at__date__lte=end
        ).order_by("published_at")
    )


def per_day(announcements: list[Announcement], figures: dict[int, dict[str, int]]) -> Any:
    """E-mails sent per publication day (for the chart)."""
    days: dict[str, int] = defaultdict(int)
    for a in announcements:
        if a.published_at:
            days[a.published_at.date().isoformat()] += figures[a.pk]["email_sent"]
    return sorted(days.items())
