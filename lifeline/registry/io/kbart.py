"""KBART phase II title lists: parse a UTF-8 TSV, normalise identifiers and dates, and replace a
resource's list in one transaction (delete + bulk insert), so re-running gives the same result.

Fast path: lines are split by hand (KBART forbids tabs and newlines inside fields, so no CSV
quoting), objects are built without per-row validation beyond our own checks, and rows go in
with bulk_create in batches (PostgreSQL: COPY, several times faster than INSERT).
"""

from __future__ import annotations

import datetime as dt
import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection, transaction
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.registry.io.identifiers import normalise_identifier
from lifeline.registry.io.reading import FileRefused, human_size
from lifeline.registry.io.report import Issue
from lifeline.registry.models import KbartTitle, Resource
from lifeline.registry.signals import holdings_replaced

Progress = Callable[[str, int, int], None]
MAX_LISTED_ERRORS = 200
BATCH = 5000

KBART_COLUMNS = [
    "publication_title",
    "print_identifier",
    "online_identifier",
    "date_first_issue_online",
    "num_first_vol_online",
    "num_first_issue_online",
    "date_last_issue_online",
    "num_last_vol_online",
    "num_last_issue_online",
    "title_url",
    "first_author",
    "title_id",
    "embargo_info",
    "coverage_depth",
    "notes",
    "publisher_name",
    "publication_type",
    "date_monograph_published_print",
    "date_monograph_published_online",
    "monograph_volume",
    "monograph_edition",
    "first_editor",
    "parent_publication_title_id",
    "preceding_publication_title_id",
    "access_type",
]
TEXT_FIELDS = [
    "title_id",
    "num_first_vol_online",
    "num_last_vol_online",
    "title_url",
    "first_author",
    "publisher_name",
    "publication_type",
    "coverage_depth",
]
MAX_LENGTH: dict[str, int] = {
    f.name: int(f.max_length or 0)
    for f in KbartTitle._meta.concrete_fields
    if getattr(f, "max_length", None)
}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
# What publishers write in an identifier column that has no identifier.
PLACEHOLDERS = frozenset(
    {"n/a", "na", "n.a.", "none", "null", "nil", "-", "--", "—", "unknown", "tbd", "0", "?"}
)
# A file with at most this share of bad lines (a few bad check digits in a long list) is
# imported without them, the bad lines listed for correction; more means a broken file, and
# nothing is written.
SET_ASIDE_SHARE = 0.05


@dataclass
class KbartReport:
    source: str
    dry_run: bool
    rows: int = 0
    replaced: int = 0
    duplicates: int = 0
    errors: list[Issue] = field(default_factory=list)
    more_errors: int = 0
    warnings: list[Issue] = field(default_factory=list)
    applied: bool = False
    # Lines left out of an otherwise good list (their problems), and which of them staff may
    # keep without their invalid identifier; `kept` says how many they chose to keep.
    set_aside: list[Issue] = field(default_factory=list)
    fixable_lines: list[int] = field(default_factory=list)
    set_aside_count: int = 0
    kept: int = 0
    # The number of titles the list has now (an empty file must not empty it unconfirmed).
    would_empty: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def set_aside_lines(self) -> list[int]:
        return sorted({i.line for i in self.set_aside if i.line})

    def summary(self) -> str:
        if self.set_aside:
            return _(
                "%(rows)d titles read, %(replaced)d replaced, %(dups)d duplicate lines skipped, "
                "%(aside)d lines set aside for correction"
            ) % {
                "rows": self.rows,
                "replaced": self.replaced,
                "dups": self.duplicates,
                "aside": self.set_aside_count,
            }
        return _(
            "%(rows)d titles read, %(replaced)d replaced, %(dups)d duplicate lines skipped, %(errors)d errors"  # noqa: E501
        ) % {
            "rows": self.rows,
            "replaced": self.replaced,
            "dups": self.duplicates,
            "errors": len(self.errors) + self.more_errors,
        }


def coverage_date(text: str, end: bool) -> dt.date | None:
    """KBART dates are YYYY, YYYY-MM or YYYY-MM-DD; an end date covers the whole period named."""
    if not text:
        return None
    match = _DATE.match(text)
    if not match:
        raise ValueError(text)
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if month is None:
        return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
    if day is None:
        return dt.date(year, month, monthrange(year, month)[1] if end else 1)
    return dt.date(year, month, day)


def decode_kbart(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 with its byte order mark (Excel's "Unicode text"): read, nothing is lost.
        try:
            return _line_ends(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise FileRefused(_("The file is neither UTF-8 nor readable UTF-16.")) from exc
    if b"\x00" in data[:8192]:
        raise FileRefused(_("This is a binary file, not a KBART text file."))
    if data.startswith(b"PK\x03\x04"):
        raise FileRefused(
            _("This is a workbook; KBART lists are tab-separated UTF-8 text (.txt or .tsv).")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRefused(
            _("Line %(line)d is not UTF-8, which KBART requires: save the file as UTF-8.")
            % {"line": line}
        ) from exc
    return _line_ends(text)


def _line_ends(text: str) -> str:
    # Lines ended by CR alone (old Mac OS, some publishers' exports) or CRLF: KBART allows no
    # line break inside a field, so every CR ends a line.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _unquote(cell: str) -> str:
    """A cell wrapped in double quotes (spreadsheet exports quote every cell), unwrapped."""
    value = cell.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return cell


# The order of values in a parsed row, and of the columns written.
FIELDS = [
    "resource_id",
    "publication_title",
    "print_identifier",
    "online_identifier",
    "date_first_issue_online",
    "date_last_issue_online",
    *TEXT_FIELDS,
]
TitleRow = tuple[object, ...]
_LIMITS = [
    (i, name, MAX_LENGTH[name])
    for i, name in enumerate(FIELDS)
    if name in MAX_LENGTH and "date" not in name
]


class _Parser:
    """Turns a line into a tuple in FIELDS order. Lean on purpose: it runs 100,000 times a file."""

    def __init__(
        self, report: KbartReport, resource: Resource, keep_lines: frozenset[int] = frozenset()
    ) -> None:
        self.report = report
        self.keep_lines = keep_lines
        self.quoted = 0  # lines with cells in double quotes
        self.placeholders = 0
        self.bad_lines: set[int] = set()
        self.id_only_lines: set[int] = set()
        self.not_id_only: set[int] = set()
        self.resource_id = resource.pk
        self.seen: dict[tuple[object, ...], tuple[int, str]] = {}
        self.width = 0
        self.at: dict[str, int] = {}

    def error(self, line: int, column: str, message: str) -> None:
        self.bad_lines.add(line)
        if column not in ("print_identifier", "online_identifier"):
            self.id_only_lines.discard(line)
            self.not_id_only.add(line)
        elif line not in self.not_id_only:
            self.id_only_lines.add(line)
        if len(self.report.errors) < MAX_LISTED_ERRORS:
            self.report.errors.append(Issue(self.report.source, line, column, message))
        else:
            self.report.more_errors += 1

    def header(self, line: str) -> None:
        names = [_unquote(h).strip().casefold() for h in line.split("\t")]
        index = {n: i for i, n in enumerate(names) if n}
        if "publication_title" not in index:
            raise FileRefused(
                _("%(source)s:1: the header has no publication_title column: is this a KBART file?")
                % {"source": self.report.source}
            )
        unknown = [n for n in names if n and n not in KBART_COLUMNS]
        if unknown:
            self.report.warnings.append(
                Issue(
                    self.report.source,
                    1,
                    "",
                    _("Columns outside KBART ignored: %(names)s") % {"names": ", ".join(unknown)},
                )
            )
        self.width = len(names)
        # A column the file lacks points at the empty cell padded on after the last one.
        self.at = {name: index.get(name, self.width) for name in FIELDS[1:]}

    def row(self, number: int, line: str) -> TitleRow | None:
        cells = line.split("\t")
        if '"' in line:
            # Cells wrapped in double quotes (spreadsheet exports): read what is inside.
            unquoted = [_unquote(c) for c in cells]
            if unquoted != cells:
                self.quoted += 1
                cells = unquoted
        if len(cells) <= self.width:
            cells += [""] * (self.width + 1 - len(cells))
        at = self.at
        ok = True
        title = cells[at["publication_title"]].strip()
        if not title:
            self.error(number, "publication_title", _("The title is empty."))
            ok = False
        ids = []
        for name in ("print_identifier", "online_identifier"):
            raw = cells[at[name]]
            if raw and raw.strip().casefold() in PLACEHOLDERS:
                self.placeholders += 1
                raw = ""
            normalised, problem = normalise_identifier(raw) if raw else ("", None)
            if problem and number in self.keep_lines:
                # Staff chose to keep this line without its invalid identifier.
                self.report.kept += 1
                problem = None
            if problem:
                self.error(
                    number,
                    name,
                    _("“%(value)s” is not a valid %(kind)s (wrong length or check digit).")
                    % {"value": raw.strip(), "kind": problem},
                )
                ok = False
            ids.append(normalised)
        dates: list[dt.date | None] = []
        for name, end in (("date_first_issue_online", False), ("date_last_issue_online", True)):
            raw = cells[at[name]].strip()
            try:
                dates.append(coverage_date(raw, end))
            except ValueError:
                dates.append(None)
                self.error(
                    number,
                    name,
                    _("“%(value)s” is not a date (YYYY, YYYY-MM or YYYY-MM-DD).") % {"value": raw},
                )
                ok = False
        if ok and dates[0] and dates[1] and dates[1] < dates[0]:
            self.error(number, "date_last_issue_online", _("Coverage ends before it starts."))
            ok = False
        texts = [cells[at[name]].strip() for name in TEXT_FIELDS]
        url = texts[3]
        if url and not url.startswith(("http://", "https://")):
            self.error(
                number,
                "title_url",
                _("“%(value)s” is not a web address (http:// or https://).") % {"value": url},
            )
            ok = False
        values = (self.resource_id, title, ids[0], ids[1], dates[0], dates[1], *texts)
        for position, name, limit in _LIMITS:
            if len(str(values[position])) > limit:
                self.error(number, name, _("Longer than %(limit)d characters.") % {"limit": limit})
                ok = False
        if not ok:
            return None
        key = (texts[0], ids[0], ids[1], dates[0])
        previous = self.seen.get(key)
        if previous is not None:
            if previous[1] == line:
                self.report.duplicates += 1
                return None
            self.error(
                number,
                "",
                _("Same title and start of coverage as line %(line)d, with other details.")
                % {"line": previous[0]},
            )
            return None
        self.seen[key] = (number, line)
        return values


def parse_kbart(
    data: bytes,
    source: str,
    resource: Resource,
    report: KbartReport,
    progress: Progress,
    keep_lines: frozenset[int] = frozenset(),
) -> list[TitleRow]:
    cr_only = b"\r" in data and b"\n" not in data
    lines = decode_kbart(data).split("\n")
    parser = _Parser(report, resource, keep_lines)
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise FileRefused(_("The file is empty."))
    parser.header(lines[start].rstrip("\r"))
    titles = []
    total = len(lines)
    for number in range(start + 2, total + 1):
        line = lines[number - 1].rstrip("\r")
        if not line.strip():
            continue
        title = parser.row(number, line)
        if title is not None:
            titles.append(title)
        if number % 10000 == 0:
            progress(_("reading"), number, total)
    progress(_("reading"), total, total)
    report.rows = len(titles)
    _notes(parser, report, source, cr_only)
    bad = len(parser.bad_lines)
    if bad and titles and bad <= SET_ASIDE_SHARE * (len(titles) + bad):
        # A few bad cells in a long list: import the rest, list these for correction.
        report.set_aside, report.errors = report.errors, []
        report.fixable_lines = sorted(parser.id_only_lines)
        report.set_aside_count = bad  # the listed ones stop at MAX_LISTED_ERRORS problems
        report.more_errors = 0
    return titles


def _notes(parser: _Parser, report: KbartReport, source: str, cr_only: bool) -> None:
    if cr_only:
        report.warnings.append(
            Issue(source, None, "", _("The lines end with CR alone (old Mac line ends); read."))
        )
    if parser.quoted:
        report.warnings.append(
            Issue(
                source,
                None,
                "",
                _("%(n)d lines have cells in double quotes; the quotes were removed.")
                % {"n": parser.quoted},
            )
        )
    if parser.placeholders:
        report.warnings.append(
            Issue(
                source,
                None,
                "",
                _(
                    "%(n)d identifier cells held a placeholder (n/a, -, none ...) and were read "
                    "as empty."
                )
                % {"n": parser.placeholders},
            )
        )


def import_kbart(
    resource: Resource,
    data: bytes,
    source: str,
    *,
    dry_run: bool,
    progress: Progress | None = None,
    limit: int | None = None,
    keep_lines: frozenset[int] = frozenset(),
    allow_empty: bool = False,
) -> KbartReport:
    """Check (dry_run) or replace the resource's title list. A few bad lines in a long list
    are set aside (`report.set_aside`) and the rest imported; `keep_lines` are set-aside lines
    staff chose to keep without their invalid identifier. A file without titles never
    replaces a list that has some unless `allow_empty` (the librarian confirmed)."""
    progress = progress or (lambda stage, done, total: None)
    report = KbartReport(source=source, dry_run=dry_run)
    try:
        if limit is not None and len(data) > limit:
            raise FileRefused(
                _("The file is larger than the limit of %(limit)s.") % {"limit": human_size(limit)}
            )
        titles = parse_kbart(data, source, resource, report, progress, keep_lines)
    except FileRefused as exc:
        report.errors.append(Issue(source, None, "", str(exc)))
        return report
    report.replaced = KbartTitle.objects.filter(resource=resource).count()
    report.would_empty = not titles and report.replaced > 0
    if report.would_empty and not allow_empty and not dry_run:
        report.errors.append(
            Issue(
                source,
                None,
                "",
                _(
                    "The file has no titles: importing it would empty the list of %(n)d titles. "
                    "Check the file, or confirm that the list should be emptied."
                )
                % {"n": report.replaced},
            )
        )
    if dry_run or report.errors:
        return report
    with transaction.atomic():
        delete_titles(resource)
        insert_titles(titles, progress)
        audit.write(
            AuditAction.IMPORT,
            resource,
            model="registry.KbartTitle",
            after={"file": source, "titles": len(titles), "replaced": report.replaced},
            message=report.summary(),
        )
    resource.library.touch_registry()
    report.applied = True
    holdings_replaced.send(sender=Resource, resource=resource)
    return report


def insert_titles(titles: list[TitleRow], progress: Progress) -> None:
    """Raw INSERT/COPY of prepared tuples: Django's bulk_create spends 5× longer building SQL."""
    table = connection.ops.quote_name(KbartTitle._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in FIELDS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN"
            ) as copy:  # psycopg 3 beneath Django's wrapper
                for n, title in enumerate(titles, start=1):
                    copy.write_row(title)
                    if n % BATCH == 0:
                        progress(_("writing"), n, len(titles))
        else:
            marks = ", ".join(["%s"] * len(FIELDS))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - our own names
            for begin in range(0, len(titles), BATCH):
                # SQLite keeps dates as ISO text; convert, not rely on the deprecated adapter.
                chunk = [
                    (*t[:4], _iso(t[4]), _iso(t[5]), *t[6:]) for t in titles[begin : begin + BATCH]
                ]
                cursor.executemany(sql, cast(Any, chunk))
                progress(_("writing"), min(begin + BATCH, len(titles)), len(titles))
    progress(_("writing"), len(titles), len(titles))


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def delete_titles(resource: Resource) -> None:
    # A raw DELETE: the queryset's delete() would load and signal 100,000 objects (audit listens).
    table = connection.ops.quote_name(KbartTitle._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE resource_id = %s", [resource.pk])  # noqa: S608
