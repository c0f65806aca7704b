"""Emergency → push: when an activation hands out a plan task that an announcement fulfils
(its `plan_task_key`), the announcement is published and the task is marked done with a link
to it. Only through emergency's signal and service functions, never its tables."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils.translation import gettext_noop

from lifeline.core.fields import keys_rotated
from lifeline.emergency.signals import tasks_handed_out

log = logging.getLogger(__name__)


@receiver(tasks_handed_out)
def publish_plan_announcements(sender: Any, event: Any, tasks: list[Any], **kwargs: Any) -> None:
    if event.is_drill:
        return  # a drill never speaks to patrons
    keyed = {t.key: t.pk for t in tasks}
    if not keyed:
        return
    event_pk, library_id = event.pk, event.library_id
    # After the declaration commits: a failure here must not undo the declaration.
    transaction.on_commit(lambda: run_for(event_pk, library_id, keyed))


def run_for(event_pk: int, library_id: int, keyed: dict[str, int]) -> int:
    from lifeline.emergency import services as emergency
    from lifeline.push.choices import State
    from lifeline.push.logic import publish
    from lifeline.push.models import Announcement

    done = 0
    for ann in Announcement.objects.filter(
        library_id=library_id, plan_task_key__in=list(keyed)
    ).exclude(state=State.WITHDRAWN):
        task_pk = keyed[ann.plan_task_key]
        try:
            if ann.state != State.PUBLISHED:
                ann = publish.move(
                    ann, State.PUBLISHED, note=gettext_noop("emergency plan activation")
                )
            Announcement.objects.filter(pk=ann.pk).update(
                emergency_event_id=event_pk, emergency_task_id=task_pk
            )
            try:
                emergency.set_task_status(
                    task_pk, "done", user=None, note=f"{ann.title} — {publish.page_url(ann)}"
                )
            except emergency.EmergencyError:
                # Declared and stood down in one transaction (a past event loaded by the demo
                # or an import): published and linked, but its tasks can no longer change.
                log.info("event %s already stood down; task %s left as it was", event_pk, task_pk)
            done += 1
        except Exception:  # one announcement's failure must not stop the others
            log.exception("could not publish announcement %s for event %s", ann.pk, event_pk)
    return done


@receiver(keys_rotated)
def redigest_subscribers(sender: Any, **kwargs: Any) -> None:
    """The address digest is keyed on the field key: recompute it under the new one."""
    from lifeline.push.logic import subscriptions

    subscriptions.redigest()
