"""Notices to plan members: written in Chinese and English in one message (members read either).

Everything goes through the core outbox (`lifeline.core.notify`) inside the caller's transaction,
so a declaration that rolls back never sends, and one that commits is never lost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from lifeline.core import notify
from lifeline.emergency.models import Event, EventTask


def both(render: Callable[[], str]) -> str:
    """The same text rendered in Chinese, then in English."""
    with translation.override("zh-hans"):
        zh = render()
    with translation.override("en"):
        en = render()
    return zh if zh == en else f"{zh}\n\n{en}"


def both_subject(render: Callable[[], str]) -> str:
    """A subject line in both languages: one header line, so " / " rather than a blank line."""
    with translation.override("zh-hans"):
        zh = render()
    with translation.override("en"):
        en = render()
    return zh if zh == en else f"{zh} / {en}"


def board_url(event: Event) -> str:
    return settings.SITE_URL + reverse("emergency:event", args=[event.library.code, event.pk])


def team_addresses(team: dict[str, Any]) -> list[str]:
    emails = [m["email"] for m in team.get("members", []) if m.get("email")]
    usernames = [m["user"] for m in team.get("members", []) if m.get("user")]
    if usernames:
        emails += [
            e
            for e in get_user_model()
            .objects.filter(username__in=usernames)
            .values_list("email", flat=True)
            if e
        ]
    return sorted(set(emails))


def task_lines(tasks: Iterable[EventTask]) -> str:
    return "\n".join(
        f"- [{timezone.localtime(t.due_at):%m-%d %H:%M}] {t.display_title}"
        + (f" ({t.assignee_name})" if t.assignee_name else "")
        for t in tasks
    )


def send_to_teams(
    event: Event,
    *,
    kind: str,
    key: str,
    subject: Callable[[], str],
    body: Callable[[dict[str, Any], list[EventTask]], str],
    tasks: list[EventTask] | None = None,
) -> int:
    """One e-mail per team (its own tasks listed) and one message per webhook; returns how
    many were queued."""
    count = 0
    by_team: dict[str, list[EventTask]] = {}
    for t in tasks or []:
        by_team.setdefault(t.team_key, []).append(t)
    for team in event.version.teams:
        to = team_addresses(team)
        if to:
            notify.notify_email(
                event.library,
                to,
                both_subject(subject),
                both(functools.partial(body, team, by_team.get(team["key"], []))),
                kind=kind,
                dedupe_key=f"emergency:{event.pk}:{key}:{team['key']}",
            )
            count += 1
    hooks = list(event.version.document.get("webhooks", []))
    for team in event.version.teams:
        hooks += team.get("webhooks", [])
    summary = both(lambda: body({}, list(tasks or [])))
    for i, hook in enumerate({h["url"]: h for h in hooks}.values()):
        notify.notify_webhook(
            event.library,
            hook["url"],
            title=both_subject(subject),
            text=summary,
            fmt=hook["format"],
            payload={
                "event": event.pk,
                "level": event.level_roman,
                "category": event.category,
                "drill": event.is_drill,
                "url": board_url(event),
            },
            kind=kind,
            dedupe_key=f"emergency:{event.pk}:{key}:hook{i}",
        )
        count += 1
    return count


def member_name(member: dict[str, Any]) -> str:
    return member["name"] + (f" / {member['name_en']}" if member.get("name_en") else "")


def titled(event: Event, msgid: str) -> str:
    """The subject line for a message id marked with gettext_noop, in the active language."""
    from django.utils.translation import gettext

    return subject_line(event, gettext(msgid))


def subject_line(event: Event, what: str) -> str:
    from django.utils.translation import gettext as _

    from lifeline.emergency.choices import EventCategory

    drill = _("[DRILL] ") if event.is_drill else ""
    category = EventCategory(event.category).label
    where = event.library.display_name
    return f"{drill}{what}: {category} · {_('level')} {event.level_roman} · {where}"


def declared_body(event: Event, team: dict[str, Any], mine: list[EventTask]) -> str:
    from django.utils.translation import gettext as _

    from lifeline.emergency.models import pick

    lines = [
        _("The library's emergency plan has been activated.")
        if not event.is_drill
        else _("This is a DRILL: the plan is being exercised, nothing has happened."),
        _("Level: %(level)s. Scope: %(scope)s.")
        % {"level": event.level_roman, "scope": event.scope},
        _("Reason: %(reason)s") % {"reason": event.reason},
    ]
    if team:
        lines.append(_("Your team: %(team)s") % {"team": pick(team["name"], team["name_en"])})
    if mine:
        lines += ["", _("Tasks and deadlines:"), task_lines(mine)]
    lines += ["", _("Event board: %(url)s") % {"url": board_url(event)}]
    return "\n".join(lines)


def level_body(event: Event, old: int, changed: list[EventTask], *, raised: bool) -> str:
    from django.utils.translation import gettext as _

    from lifeline.emergency.choices import ROMAN

    lines = [
        _("The response level changed from %(old)s to %(new)s.")
        % {"old": ROMAN[old], "new": event.level_roman}
    ]
    if changed:
        lines += ["", _("New tasks:") if raised else _("Withdrawn tasks:"), task_lines(changed)]
    lines += ["", _("Event board: %(url)s") % {"url": board_url(event)}]
    return "\n".join(lines)


def closed_body(event: Event) -> str:
    from django.utils.translation import gettext as _

    lines = [
        _("The emergency has been stood down. Thank you."),
        event.close_note,
        _("Event board: %(url)s") % {"url": board_url(event)},
    ]
    return "\n".join(line for line in lines if line)


def task_body(task: EventTask) -> str:
    from django.utils.translation import gettext as _

    return "\n".join(
        [
            _("Task: %(task)s") % {"task": task.display_title},
            _("Team: %(team)s") % {"team": task.display_team},
            _("Due: %(due)s") % {"due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")},
            _("Event board: %(url)s") % {"url": board_url(task.event)},
        ]
    )
