"""lifeline import-kbart FILE --resource KEY [--library CODE] [--dry-run] [--max-bytes N]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.core.audit import acting_as
from lifeline.registry.io.cli import (
    DRY_RUN,
    N_ERRORS,
    N_ERRORS_MORE,
    NO_RESOURCE,
    StderrProgress,
    pick_library,
    print_issues,
)
from lifeline.registry.io.kbart import import_kbart
from lifeline.registry.io.reading import FileRefused, max_bytes, read_path
from lifeline.registry.models import Resource


class Command(BaseCommand):
    help = "Replace a resource's title list with a KBART phase II file (UTF-8, tab-separated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--resource", required=True, help="key of the resource the list belongs to"
        )
        parser.add_argument("--library", help="library code (optional when there is one library)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )
        parser.add_argument(
            "--allow-empty",
            action="store_true",
            help="let a file without titles empty a list that has some",
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            help="refuse files above this size (default LIFELINE_MAX_UPLOAD_BYTES)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        library = pick_library(opts["library"])
        resource = (
            Resource.objects.filter(library=library, key=opts["resource"])
            .select_related("library")
            .first()
        )
        if resource is None:
            raise CommandError(
                str(NO_RESOURCE) % {"key": opts["resource"], "library": library.code}
            )
        try:
            data = read_path(opts["file"], max_bytes(opts["max_bytes"]))
        except FileRefused as exc:
            raise CommandError(f"{opts['file']}: {exc}") from exc
        progress = StderrProgress(quiet=opts["verbosity"] == 0)
        with acting_as(None, "import_kbart"):
            report = import_kbart(
                resource,
                data,
                opts["file"],
                dry_run=opts["dry_run"],
                progress=progress,
                allow_empty=opts["allow_empty"],
            )
        progress.done()
        print_issues(self.stdout, report.warnings, self.style.WARNING)
        # A few bad lines in a long list: left out, listed for correction.
        print_issues(self.stdout, report.set_aside, self.style.WARNING)
        print_issues(self.stderr, report.errors, self.style.ERROR)
        if report.errors:
            if report.more_errors:
                raise CommandError(
                    str(N_ERRORS_MORE) % {"n": len(report.errors), "more": report.more_errors}
                )
            raise CommandError(str(N_ERRORS) % {"n": len(report.errors)})
        summary = report.summary()
        self.stdout.write(
            self.style.SUCCESS(str(DRY_RUN) % {"summary": summary} if opts["dry_run"] else summary)
        )
