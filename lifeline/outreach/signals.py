"""Outreach listens to the emergency app: a declared emergency (not a drill) closes the building,
so every future room booking of that library is cancelled and its patron told (through the
outbox). Connected in `apps.py`; emergency knows nothing of outreach.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lifeline.outreach.logic import rooms


def on_emergency_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created or getattr(instance, "is_drill", False):
        return
    library = instance.library
    reason = _("The library is closed by an emergency: %(reason)s") % {
        "reason": getattr(instance, "reason", "")
    }
    transaction.on_commit(lambda: rooms.close_building(library, reason))
