"""lifeline import-resources FILE [FILE ...] [--library CODE] [--dry-run] [--kind K]
[--max-bytes N]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.core.audit import acting_as
from lifeline.registry.io.choices import ImportKind
from lifeline.registry.io.cli import (
    DRY_RUN,
    IMPORTED,
    N_ERRORS,
    StderrProgress,
    pick_library,
    print_report,
)
from lifeline.registry.io.reading import FileRefused, max_bytes, read_path
from lifeline.registry.io.services import Upload, import_registry


class Command(BaseCommand):
    help = (
        "Import vendors, resources and access routes from CSV or XLSX (Chinese or English headers)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--library", help="library code (optional when there is one library)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )
        parser.add_argument(
            "--kind",
            choices=ImportKind.values,
            help="what a CSV holds (default: guessed from its headers)",
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            help="refuse files above this size (default LIFELINE_MAX_UPLOAD_BYTES)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        library = pick_library(opts["library"])
        limit = max_bytes(opts["max_bytes"])
        uploads, refused = [], []
        for path in opts["files"]:
            try:
                uploads.append(Upload(path, read_path(path, limit), opts["kind"]))
            except FileRefused as exc:
                refused.append(f"{path}: {exc}")
        if refused:
            raise CommandError("\n".join(refused))
        progress = StderrProgress(quiet=opts["verbosity"] == 0)
        with acting_as(None, "import_resources"):
            report = import_registry(library, uploads, dry_run=opts["dry_run"], progress=progress)
        progress.done()
        print_report(self, report)
        if report.errors:
            raise CommandError(str(N_ERRORS) % {"n": len(report.errors)})
        message = DRY_RUN if opts["dry_run"] else IMPORTED
        self.stdout.write(self.style.SUCCESS(str(message) % {"summary": report.summary()}))
