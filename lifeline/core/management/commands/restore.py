from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.core.backup import BackupRefused, restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by `lifeline backup` on a fresh install. The whole archive is "
        "checked first (damage, version, engine, field key); nothing is touched if it is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--replace", action="store_true", help="overwrite a database that already holds data"
        )
        parser.add_argument(
            "--ignore-field-key",
            action="store_true",
            help="restore although the field-encryption key differs (stored secrets unreadable)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        archive: Path = opts["archive"]
        if not archive.is_file():
            raise CommandError(f"{archive}: no such file")
        try:
            manifest = restore(
                archive, replace=opts["replace"], ignore_field_key=opts["ignore_field_key"]
            )
        except BackupRefused as exc:
            raise CommandError(f"restore refused: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the backup of {manifest['created_at']}: {len(manifest['tables'])} "
                "tables, every row count and checksum as in the backup."
            )
        )
