from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.core.backup import BackupRefused, create


class Command(BaseCommand):
    help = (
        "Write a consistent backup (database snapshot, uploaded files, field-key reference) to "
        "one .tar.gz archive. Safe while Lifeline runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="archive path (default var/backups/)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            result = create(opts["output"])
        except BackupRefused as exc:
            raise CommandError(str(exc)) from exc
        tables = result.manifest["tables"]
        rows = sum(count for count, _digest in tables.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written: {result.path} ({len(tables)} tables, {rows} rows, "
                f"{len(result.manifest['members']) - 1} uploaded files)"
            )
        )
        key = result.manifest["field_key"]
        self.stdout.write(
            f"The field-encryption key is NOT in the archive (fingerprint {key['fingerprint']}, "
            f"from {key['source']}): keep it apart from the backups."
        )
