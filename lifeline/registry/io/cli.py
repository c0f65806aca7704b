"""What the import/export commands share: the library, progress on stderr, printing a report."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.core.models import Library
from lifeline.registry.io.report import ImportReport, Issue

# Messages of the commands in management/commands/, kept here so that this package's catalogue
# (made by makemessages inside lifeline/registry/io) holds them.
NO_RESOURCE = gettext_lazy("No resource with key “%(key)s” in %(library)s.")
N_ERRORS = gettext_lazy("%(n)d errors: nothing was written.")
N_ERRORS_MORE = gettext_lazy("%(n)d errors (and %(more)d more not listed): nothing was written.")
DRY_RUN = gettext_lazy("Dry run, nothing written: %(summary)s")
IMPORTED = gettext_lazy("Imported: %(summary)s")
WROTE = gettext_lazy("Wrote %(n)d bytes to %(path)s")
NEED_OUTPUT = gettext_lazy("An XLSX workbook is not for a terminal: give --output FILE.")


def pick_library(code: str | None) -> Library:
    if code:
        library = Library.objects.filter(code=code).first()
        if library is None:
            raise CommandError(_("No library with code “%(code)s”.") % {"code": code})
        return library
    libraries = list(Library.objects.all()[:2])
    if len(libraries) == 1:
        return libraries[0]
    if not libraries:
        raise CommandError(_("There is no library yet: create one first."))
    raise CommandError(_("This installation has several libraries: name one with --library CODE."))


class StderrProgress:
    """“reading 40,000/100,000 (40%)” redrawn in place on a terminal; a line every 2 s otherwise."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total and done >= total
        if self.quiet or (not finished and now - self.last < (0.2 if self.tty else 2.0)):
            return
        self.last = now
        text = (
            f"{stage} {done:,}/{total:,} ({100 * done // total}%)" if total else f"{stage} {done:,}"
        )
        self.stream.write(("\r" + text + " " * 8) if self.tty else text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and not self.quiet and self.last:
            self.stream.write("\n")


def print_issues(out: Any, issues: list[Issue], style: Any) -> None:
    for issue in issues:
        out.write(style(str(issue)))


def print_report(command: Any, report: ImportReport) -> None:
    for name, encoding in report.encodings.items():
        command.stdout.write(
            _("%(file)s: read as %(encoding)s") % {"file": name, "encoding": encoding}
        )
    for kind, counts in report.counts().items():
        command.stdout.write(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for row in report.changed_rows():
        command.stdout.write(
            f"  {row.outcome:<9} {row.kind:<9} {row.key}  {', '.join(row.changed)}"
        )
    print_issues(command.stdout, report.warnings, command.style.WARNING)
    print_issues(command.stderr, report.errors, command.style.ERROR)
