"""lifeline load-federation-metadata FILE --library CODE [--create] [--idp ENTITY_ID ...]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.accounts.saml.federation import load_federation
from lifeline.accounts.saml.metadata import MetadataError
from lifeline.core.audit import acting_as
from lifeline.core.models import Library


class Command(BaseCommand):
    help = "Refresh (or add) a library's CARSI identity providers from a federation metadata file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--library", required=True)
        parser.add_argument("--create", action="store_true", help="Add IdPs not registered yet.")
        parser.add_argument(
            "--idp", action="append", default=[], help="Only this entity ID (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        library = Library.objects.filter(code=options["library"]).first()
        if library is None:
            raise CommandError(f"No library with code {options['library']!r}.")
        try:
            xml = options["file"].read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        try:
            with acting_as(None, "load_federation_metadata"):
                result = load_federation(xml, library, options["idp"], create=options["create"])
        except MetadataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{len(result.created)} added, {len(result.updated)} refreshed, "
            f"{len(result.skipped)} skipped."
        )
