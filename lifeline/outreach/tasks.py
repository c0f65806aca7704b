"""Background work of outreach: event reminders, scoring papers whose time ran out."""

from __future__ import annotations

from django.tasks import task

from lifeline.outreach.logic import events, quizzes


@task()
def send_reminders() -> int:
    return events.send_reminders()


@task()
def close_expired_attempts() -> int:
    return quizzes.close_expired()
