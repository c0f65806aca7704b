"""lifeline export-resources [--format csv|xlsx|ezproxy] [--kind K] [--lang zh|en]
[--library CODE] [--output FILE]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.registry.io import exporting
from lifeline.registry.io.choices import ExportFormat, ImportKind
from lifeline.registry.io.cli import NEED_OUTPUT, WROTE, pick_library


class Command(BaseCommand):
    help = "Export the registry as CSV (one kind of record), XLSX (three sheets) or EZproxy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=ExportFormat.values, default=ExportFormat.XLSX)
        parser.add_argument(
            "--kind",
            choices=ImportKind.values,
            default=ImportKind.RESOURCES,
            help="for CSV: which records",
        )
        parser.add_argument(
            "--lang", choices=["zh", "en"], default="zh", help="language of headers and values"
        )
        parser.add_argument("--library", help="library code (optional when there is one library)")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument(
            "--with-passwords",
            action="store_true",
            help="include shared-account passwords in clear",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        library = pick_library(opts["library"])
        language = "zh-hans" if opts["lang"] == "zh" else "en"
        fmt = opts["format"]
        if fmt == ExportFormat.XLSX and not opts["output"] and sys.stdout.isatty():
            raise CommandError(str(NEED_OUTPUT))
        if fmt == ExportFormat.CSV:
            data = exporting.export_csv(library, opts["kind"], language, opts["with_passwords"])
        elif fmt == ExportFormat.XLSX:
            data = exporting.export_xlsx(library, language, opts["with_passwords"])
        else:
            data = exporting.export_ezproxy(library).encode("utf-8")
        if opts["output"]:
            Path(opts["output"]).write_bytes(data)
            self.stderr.write(str(WROTE) % {"n": len(data), "path": opts["output"]})
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
