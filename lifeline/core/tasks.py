from __future__ import annotations

from django.tasks import task

from lifeline.core import notify


@task()
def deliver_notification(pk: int) -> bool:
    return notify.deliver(pk)


@task()
def sweep_notifications() -> int:
    return notify.send_pending()
