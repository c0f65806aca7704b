"""`lifeline rotate-keys`: re-encrypt every stored secret under the current field key.

To change the field key: set LIFELINE_FIELD_KEY to the new key and LIFELINE_FIELD_OLD_KEYS to
the old one, run this command, then drop the old key. Values no known key opens are reported and
left as they are (re-enter them). The log-user HMAC key is one-way and is not rotated here:
changing LIFELINE_LOG_USER_KEY starts new pseudonyms (see settings.py).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lifeline.core.audit import acting_as
from lifeline.core.fields import rotate


class Command(BaseCommand):
    help = "Re-encrypt stored secrets (EncryptedTextField) under LIFELINE_FIELD_KEY."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args: Any, **opts: Any) -> None:
        with acting_as(None, "rotate-keys"), transaction.atomic():
            results = rotate(dry_run=opts["dry_run"])
        unreadable = 0
        for r in results:
            self.stdout.write(f"{r.field}: {r.rotated} re-encrypted, {r.unreadable} unreadable")
            unreadable += r.unreadable
        if unreadable:
            raise CommandError(
                f"{unreadable} value(s) open under no known key: add the old key to "
                "LIFELINE_FIELD_OLD_KEYS and run again, or enter them anew."
            )
