"""Background work of outreach: event reminders, scoring papers whose time ran out."""

from __future__ import annotations

from django.tasks import task

from lifeline.outreach.logic import events, humanlib, quizzes, rooms


@task()
def send_reminders() -> int:
    return events.send_reminders()


@task()
def close_expired_attempts() -> int:
    return quizzes.close_expired()


@task()
def send_conversation_reminders() -> int:
    return humanlib.send_reminders()


@task()
def mark_no_shows() -> int:
    return rooms.mark_no_shows()
