"""An audit row for every change of an audited model: who, when, what, before and after.

Models opt in with `audited = True`. The acting user comes from a context variable that
the middleware (web requests), the API and management commands set; without one the
actor is "system". Bulk imports write one IMPORT row with counts instead of one per row.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_delete, post_save, pre_save

from lifeline.core.choices import AuditAction

_actor: contextvars.ContextVar[tuple[Any, str] | None] = contextvars.ContextVar(
    "lifeline_actor", default=None
)

SECRET_FIELDS = {"account_password", "password", "api_key", "secret", "digest"}


def _is_secret(field: Any) -> bool:
    """Masked in the log: the named secrets, and every encrypted field (a webhook address, a
    WeCom key): what the database holds only encrypted, the log must not hold in clear."""
    from lifeline.core.fields import EncryptedTextField

    return field.name in SECRET_FIELDS or isinstance(field, EncryptedTextField)


@contextlib.contextmanager
def acting_as(user: Any = None, name: str = "") -> Iterator[None]:
    label = name or (
        user.get_username() if user is not None and user.is_authenticated else "system"
    )
    token = _actor.set((user if user is not None and user.is_authenticated else None, label))
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(user: Any, name: str = "") -> None:
    """Set the actor for the rest of the current context, with no undo. Only for code that runs
    inside a context of its own (API views, see lifeline.core.api_base.audit_scoped)."""
    _actor.set((user, name or user.get_username()))


def current_actor() -> tuple[Any, str]:
    return _actor.get() or (None, "system")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, FieldFile):  # a file or image field: its stored name
        return value.name or ""
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if _is_secret(field):
            data[field.name] = "••••" if getattr(obj, field.attname) else ""
            continue
        data[field.name] = _jsonable(getattr(obj, field.attname))
    return data


def library_of(obj: models.Model) -> Any:
    """The library id of an object, following the model's `library_lookup` path."""
    lookup = getattr(type(obj), "library_lookup", "library")
    if lookup == "pk":
        return obj.pk
    *path, last = lookup.split("__")
    target: Any = obj
    for part in path:
        target = getattr(target, part, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def write(
    action: str,
    obj: models.Model | None = None,
    *,
    model: str = "",
    library_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
) -> None:
    from lifeline.core.models import AuditLog

    user, label = current_actor()
    AuditLog.objects.create(
        library_id=library_id
        if library_id is not None
        else (library_of(obj) if obj is not None else None),
        user=user,
        actor=label[:150],
        action=action,
        model=model or (obj._meta.label if obj is not None else ""),
        object_pk=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        before=before,
        after=after,
        message=message,
    )


def _pre_save(
    sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any
) -> None:
    if raw or not getattr(sender, "audited", False) or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old) if old is not None else None  # type: ignore[attr-defined]
    # Secrets are masked in the log, so keep the old values in memory only: a changed password
    # must still show as a change (and write a row) without the log ever holding it.
    instance._audit_secrets = _secrets(old) if old is not None else {}  # type: ignore[attr-defined]


SECRET_CHANGED = "•••• (changed)"  # noqa: S105  (a mask, not a secret)


def _secrets(obj: models.Model) -> dict[str, Any]:
    fields = obj._meta.concrete_fields
    return {f.name: getattr(obj, f.attname) for f in fields if _is_secret(f)}


def _stable(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    volatile = {f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)}
    return {k: v for k, v in data.items() if k not in volatile}


def _post_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    if raw or not getattr(sender, "audited", False):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    after = snapshot(instance)
    if before is not None:
        old_secrets = getattr(instance, "_audit_secrets", {})
        for name, value in _secrets(instance).items():
            if name in old_secrets and old_secrets[name] != value and value:
                after[name] = SECRET_CHANGED
    if before is not None and _stable(sender, before) == _stable(sender, after):
        return  # a save that changed nothing but `updated_at` is no change worth a row
    write(
        AuditAction.CREATE if created else AuditAction.UPDATE, instance, before=before, after=after
    )


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if getattr(sender, "audited", False):
        write(AuditAction.DELETE, instance, before=snapshot(instance))


def connect_signals() -> None:
    pre_save.connect(_pre_save, dispatch_uid="lifeline_audit_pre")
    post_save.connect(_post_save, dispatch_uid="lifeline_audit_post")
    post_delete.connect(_post_delete, dispatch_uid="lifeline_audit_delete")
