"""Any change to the registry bumps the library's version, so cached patron pages refresh."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from lifeline.core.models import Library
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor


def _touch(sender: type, instance: Any, **kwargs: Any) -> None:
    library_id = (
        instance.resource.library_id if isinstance(instance, AccessRoute) else instance.library_id
    )
    from django.utils import timezone

    Library.objects.filter(pk=library_id).update(registry_changed_at=timezone.now())


# Sent with `resource=` after a resource's KBART list was replaced. Usage analytics listens (it
# matches COUNTER titles to holdings); the registry does not need to know who does.
holdings_replaced = Signal()


for _model in (Vendor, Category, Resource, AccessRoute):
    post_save.connect(_touch, sender=_model, dispatch_uid=f"touch_{_model.__name__}")
    post_delete.connect(_touch, sender=_model, dispatch_uid=f"touch_del_{_model.__name__}")
