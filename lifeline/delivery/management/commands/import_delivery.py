"""`lifeline import-delivery FILE --library CODE`: import past delivery requests from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.core.audit import acting_as
from lifeline.core.models import Library
from lifeline.delivery.logic import importer


class Command(BaseCommand):
    help = "Import past document-delivery requests (all or nothing; safe to re-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--library", required=True, help="library code")

    def handle(self, *args: Any, **options: Any) -> None:
        library = Library.objects.filter(code=options["library"]).first()
        if library is None:
            raise CommandError(f"no library with code {options['library']!r}")
        path = Path(options["file"])
        try:
            with acting_as(None, "import-delivery"):
                result = importer.import_requests(library, path.name, path.read_bytes())
        except importer.ImportFailed as exc:
            raise CommandError("nothing imported:\n" + "\n".join(exc.messages)) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.created} created, {result.updated} updated, "
            f"{result.suppliers_created} suppliers created"
        )
