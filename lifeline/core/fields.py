"""An encrypted text field for secrets a patron may see but the database must not hold in clear.

The key is `settings.FIELD_ENCRYPTION_KEY` (LIFELINE_FIELD_KEY), its own secret rather than one
derived from SECRET_KEY (issue 21). Values written under an older key stay readable while that
key is listed in `FIELD_ENCRYPTION_OLD_KEYS`; `rotate()` (the `lifeline rotate-keys` command)
re-encrypts every stored value under the current key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.validators import URLValidator
from django.db import connections, models, router
from django.dispatch import Signal

# Sent by rotate() after re-encrypting (not on a dry run), inside its transaction: apps that
# derive something from FIELD_ENCRYPTION_KEY (e.g. push's keyed address digests) recompute it.
keys_rotated = Signal()


@lru_cache(maxsize=8)
def _fernet(key_material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lifeline-field", info=b"v1").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    """The current key first (it encrypts), then the old ones (they only decrypt)."""
    old = [k for k in getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", []) if k]
    return MultiFernet([_fernet(k) for k in [settings.FIELD_ENCRYPTION_KEY, *old]])


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    try:
        return _keys().decrypt(value.encode()).decode()
    except InvalidToken:
        # A value written before encryption (or under a key no longer listed) is not shown,
        # never guessed.
        return ""


class EncryptedTextField(models.TextField):
    """Stored as a Fernet token; Python code sees the clear text."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


class EncryptedURLField(EncryptedTextField):
    """A web address that is itself a credential (a group robot's or a subscriber's webhook:
    the key is in the address): encrypted at rest like any secret, validated and edited as a URL.
    The outbox copies it onto its rows, so those are encrypted too."""

    default_validators = [URLValidator(schemes=["http", "https"])]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(
            **{"form_class": forms.URLField, "max_length": 1000, "widget": forms.URLInput, **kwargs}
        )


def encrypt_clear_values(model: type[models.Model], field_name: str, using: str) -> int:
    """For a migration that turns a clear column into an encrypted one: encrypt every stored
    value that is not already a token under a key we know. Raw SQL reads, `update` writes
    (no signals: the audit log must not record the secrets)."""
    keys = _keys()
    field = model._meta.get_field(field_name)
    qn = connections[using].ops.quote_name
    table, column = model._meta.db_table, str(field.column)  # type: ignore[union-attr]
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT id, {qn(column)} FROM {qn(table)} "  # noqa: S608 - names from models
            f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
        )
        rows = cursor.fetchall()
    done = 0
    for row_pk, raw in rows:
        try:
            keys.decrypt(str(raw).encode())
            continue  # already encrypted
        except InvalidToken:
            pass
        model._base_manager.using(using).filter(pk=row_pk).update(
            **{field_name: models.Value(encrypt(str(raw)))}
        )
        done += 1
    return done


@dataclass
class Rotation:
    field: str  # "app.Model.field"
    rotated: int = 0
    unreadable: int = 0  # under no key we know: left as they are, reported


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def rotate(*, dry_run: bool = False) -> list[Rotation]:
    """Re-encrypt every stored value of every EncryptedTextField under the current key.

    Reads the raw column (so a value no key opens is told apart from an empty one) and writes
    with `QuerySet.update` (no save signals: the audit log must not record the secrets)."""
    keys = _keys()
    results: list[Rotation] = []
    for model, field in encrypted_fields():
        result = Rotation(f"{model._meta.label}.{field.name}")
        manager = model._base_manager
        db = router.db_for_write(model)
        qn = connections[db].ops.quote_name
        table, column = model._meta.db_table, str(field.column)
        pk = str(model._meta.pk.column) if model._meta.pk is not None else "id"
        with connections[db].cursor() as cursor:
            cursor.execute(
                f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} "  # noqa: S608 - names from models
                f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
            )
            rows = cursor.fetchall()
        for row_pk, raw in rows:
            try:
                token = keys.rotate(str(raw).encode())
            except InvalidToken:
                result.unreadable += 1
                continue
            if not dry_run:
                manager.using(db).filter(pk=row_pk).update(
                    **{field.name: models.Value(token.decode())}
                )
            result.rotated += 1
        results.append(result)
    if not dry_run:
        keys_rotated.send(sender=rotate)
    return results
