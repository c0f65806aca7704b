"""Import of bibliographic exports and journal lists into a library's records.

All or nothing: the whole file is parsed first (a defect names its line and nothing is written),
then written in one transaction. Records are merged across sources: the same paper is found by
DOI, then WoS UT, then Scopus EID, then normalised title + year + first author; a merged record
gains the new database in `sources` and its times-cited figure per database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.research.logic import subject, wospool
from lifeline.research.logic.bulkwrite import NewRecord, insert_cited, insert_records
from lifeline.research.logic.formats import detect, parse_text
from lifeline.research.logic.records import ParseError, Record, decode, normalise_title
from lifeline.research.logic.wospool import (
    R_AFFILIATIONS,
    R_DOCTYPE,
    R_JOURNAL,
    R_OURS,
    Item,
    Row,
    is_ours,
    prepared,
)
from lifeline.research.models import AffiliationVariant, BiblioRecord, JournalEntry


@dataclass
class ImportResult:
    fmt: str
    created: int = 0
    merged: int = 0


def our_variants(library: Library) -> list[str]:
    return [
        v.casefold()
        for v in AffiliationVariant.objects.filter(library=library).values_list(
            "variant", flat=True
        )
    ]


__all__ = ["is_ours"]  # kept here for its callers; defined beside the parse (`wospool`)


IDS = ("doi", "wos_ut", "scopus_eid")
IMPORT_CACHE_KIB = -131_072  # negative: KiB, SQLite's way (128 MB)
LOOKUP_CHUNK = 900  # bound parameters per query (SQLite's older limit is 999)
UPDATED_FIELDS = [
    "doi",
    "wos_ut",
    "scopus_eid",
    "journal",
    "issn",
    "volume",
    "issue",
    "pages",
    "doc_type",
    "sources",
    "times_cited",
    "affiliations",
    "is_ours",
]


def _chunk() -> int:
    return 20_000 if connection.vendor == "postgresql" else LOOKUP_CHUNK


def _among(
    qs: QuerySet[BiblioRecord], field: str, values: list[Any], sql_type: str
) -> QuerySet[BiblioRecord]:
    """`field IN values`; on PostgreSQL as one array parameter (`= ANY`): psycopg spent more
    time splitting a query of 900 placeholders than PostgreSQL spent answering it."""
    if connection.vendor != "postgresql":
        return qs.filter(**{f"{field}__in": values})
    column = connection.ops.quote_name(field)
    return qs.extra(where=[f"{column} = ANY(%s::{sql_type}[])"], params=[values])  # noqa: S610


def _state(obj: BiblioRecord) -> tuple[object, ...]:
    return tuple(getattr(obj, f) for f in UPDATED_FIELDS)


# a merge fills these of the paper's fields from the row of the record merged in (row position)
TEXT_FIELDS = tuple(
    zip(
        ("journal", "issn", "volume", "issue", "pages"),
        range(R_JOURNAL, R_JOURNAL + 5),
        strict=True,
    )
)


def _merge(obj: BiblioRecord | NewRecord, it: Item) -> None:
    """What the record `it` adds to the paper it was found to be."""
    row, _key, doi, ut, eid, source, times_cited, _cited = it
    for field, value in (("doi", doi), ("wos_ut", ut), ("scopus_eid", eid)):
        if not getattr(obj, field) and value:
            setattr(obj, field, value[:300])
    for field, at in TEXT_FIELDS:  # the row's values, already cut to their columns
        if not getattr(obj, field) and row[at]:
            setattr(obj, field, row[at])
    if not obj.doc_type and row[R_DOCTYPE]:
        obj.doc_type = row[R_DOCTYPE]
    if source not in obj.sources:
        obj.sources = [*obj.sources, source]
    if times_cited is not None:
        obj.times_cited = {**obj.times_cited, source: times_cited}
    if not obj.affiliations and row[R_AFFILIATIONS] != "[]":
        obj.affiliations = json.loads(row[R_AFFILIATIONS])
    obj.is_ours = obj.is_ours or row[R_OURS]


def _existing(library: Library, batch: list[Item]) -> dict[str, dict[str, int]]:
    """Pks of the library's records that these records' identifiers name: per identifier
    kind, value → pk (the first, as the lookup one record at a time found it)."""
    found: dict[str, dict[str, int]] = {f: {} for f in (*IDS, "match_key")}
    wanted: dict[str, list[str]] = {
        "match_key": sorted({it[1] for it in batch if it[1]}),
        "doi": sorted({it[2] for it in batch if it[2]}),
        "wos_ut": sorted({it[3] for it in batch if it[3]}),
        "scopus_eid": sorted({it[4] for it in batch if it[4]}),
    }
    for field, values in wanted.items():
        for i in range(0, len(values), _chunk()):
            chunk = values[i : i + _chunk()]
            # By the identifier's own index, the library compared here: with `library_id = ..`
            # in the query SQLite chose the library's index and scanned all of its records for
            # every chunk (a re-import of 50,000 records took twice as long as the first).
            rows = (
                _among(BiblioRecord.objects.all(), field, chunk, "text")
                .order_by("pk")
                .values_list(field, "pk", "library_id")
            )
            for value, pk, owner in rows:
                if owner == library.pk:
                    found[field].setdefault(value, pk)
    return found


# a paper as the merge holds it: a stored record, or (an index into `_Merger.created`) one this
# file creates
Paper = BiblioRecord | int


class _Merger:
    """The records of one import, merged batch by batch in file order: the same paper is
    found by DOI, then WoS UT, then Scopus EID, then normalised title + year + first author,
    among the stored records and the file's own earlier ones. Nothing is written until
    `finish`: the lookups of a later batch must see the library as it was. A new paper stays
    the row made ready where it was parsed unless a later record of the file merges into it."""

    def __init__(self, library: Library, fmt: str) -> None:
        self.library = library
        self.result = ImportResult(fmt=fmt)
        self.first = not BiblioRecord.objects.filter(library=library).exists()
        self.pending: dict[str, dict[str, Paper]] = {f: {} for f in (*IDS, "match_key")}
        self.stored: dict[str, dict[str, int]] = {f: {} for f in (*IDS, "match_key")}
        self.loaded: dict[int, BiblioRecord] = {}
        self.before: dict[int, tuple[object, ...]] = {}
        self.created: list[Row | NewRecord] = []
        self.refs: list[tuple[Paper, list[str]]] = []

    def _lookup(self, batch: list[Item]) -> None:
        """The stored records this batch's identifiers name, loaded once each."""
        found = _existing(self.library, batch)
        for field, values in found.items():
            known = self.stored[field]
            for value, pk in values.items():
                known.setdefault(value, pk)
        to_load = sorted({pk for m in found.values() for pk in m.values()} - set(self.loaded))
        # only what a merge reads and writes (not the title and author lists)
        stored_qs = BiblioRecord.objects.only("pk", "match_key", *UPDATED_FIELDS)
        for i in range(0, len(to_load), _chunk()):
            for obj in _among(stored_qs, "id", to_load[i : i + _chunk()], "bigint"):
                self.loaded[obj.pk] = obj
                # what it was, so that only the records this file changes are written back
                self.before[obj.pk] = _state(obj)

    def add(self, batch: list[Item]) -> None:
        if not self.first:  # a first import looks nothing up
            self._lookup(batch)
        stored, loaded, pending, created = self.stored, self.loaded, self.pending, self.created
        merged = 0
        for it in batch:
            row, key, doi, ut, eid, _source, _times, cited = it
            paper: Paper | None = None
            for field, value in (
                ("doi", doi),
                ("wos_ut", ut),
                ("scopus_eid", eid),
                ("match_key", key),
            ):
                if not value:
                    continue
                pk = stored[field].get(value)
                paper = loaded.get(pk) if pk is not None else pending[field].get(value)
                if paper is not None:
                    break
            if paper is None:  # a new paper: its row as made ready, nothing to build here
                paper = len(created)
                created.append(row)
                known = (doi[:300], ut[:300], eid[:300], row[1])
            else:
                merged += 1
                obj: BiblioRecord | NewRecord
                if isinstance(paper, int):
                    new = created[paper]
                    obj = created[paper] = (
                        new if isinstance(new, NewRecord) else NewRecord.from_row(new)
                    )
                else:
                    obj = paper
                _merge(obj, it)
                # what the paper is now known by (a merge may have given it a DOI) finds it again
                known = (obj.doi, obj.wos_ut, obj.scopus_eid, obj.match_key)
            for field, value in zip(
                ("doi", "wos_ut", "scopus_eid", "match_key"), known, strict=True
            ):
                if value:
                    pending[field].setdefault(value, paper)
            if cited:
                self.refs.append((paper, cited))
        self.result.merged += merged
        self.result.created += len(batch) - merged

    def finish(self) -> ImportResult:
        library = self.library
        ids = insert_records(library, self.created)
        changed = [obj for pk, obj in self.loaded.items() if _state(obj) != self.before[pk]]
        BiblioRecord.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=500)
        insert_cited(
            library,
            (
                (ids[p] if isinstance(p, int) else int(p.pk), d)
                for p, dois in self.refs
                for d in set(dois)
            ),
        )
        subject.data_changed(library)
        audit.write(
            AuditAction.IMPORT,
            model="research.biblio_record",
            library_id=library.pk,
            after={
                "format": self.result.fmt,
                "created": self.result.created,
                "merged": self.result.merged,
            },
        )
        return self.result


def write_records(library: Library, records: list[Record], fmt: str = "") -> ImportResult:
    """Merge the records into the library's, in one transaction. Written in batches (lookups
    by chunks of identifiers, bulk inserts and updates): a million records are a few thousand
    statements, not millions."""
    return _write(library, fmt, [prepared(records, our_variants(library))])


@contextmanager
def import_pragmas() -> Iterator[None]:
    """SQLite: a page cache of 128 MB for this connection while it imports, then its own again.
    A large import grows five indexes in one transaction; with SQLite's default 2 MB cache
    their pages were spilled to the WAL and read back over and over. Memory only: journal
    and synchronous settings, hence the transaction's safety, are untouched."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        size = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {size}")


def _write(library: Library, fmt: str, batches: Iterable[list[Item]]) -> ImportResult:
    with import_pragmas(), transaction.atomic():
        merger = _Merger(library, fmt)
        for batch in batches:
            merger.add(batch)
        return merger.finish()


def import_records(library: Library, data: bytes) -> ImportResult:
    """Parse every record (ParseError names the line), then write them all. A large Web of
    Science plain-text export is parsed by worker processes while the records are merged;
    the first piece they find unusual rolls that back and the file is read line by line."""
    text = decode(data)
    fmt = detect(text)
    if fmt == "wos":
        batches = wospool.parse_parallel(text, our_variants(library))
        if batches is not None:
            # an Unusual piece rolled the transaction back (nothing was written): read line by line
            with suppress(wospool.Unusual), closing(batches):
                return _write(library, fmt, batches)
    fmt, records = parse_text(text, fmt)
    return write_records(library, records, fmt)


LIST_HEADERS = {
    "title": ("journal", "title", "full journal title", "journal name", "刊名", "期刊名称", "期刊"),
    "issn": ("issn", "eissn", "e-issn", "issn号"),
    "quartile": ("quartile", "jif quartile", "分区", "jcr分区"),
    "impact_factor": ("impact factor", "jif", "journal impact factor", "影响因子"),
}


def _rows_of(data: bytes) -> list[list[str]]:
    if data[:4] == b"PK\x03\x04":
        import io

        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        return [
            ["" if c is None else str(c) for c in row] for row in ws.iter_rows(values_only=True)
        ]
    import csv

    return list(csv.reader(decode(data).splitlines()))


@transaction.atomic
def import_journal_list(library: Library, kind: str, year: int, data: bytes) -> int:
    """A licensed journal list as XLSX or CSV with a header row (English or Chinese names).
    Replaces that list for that year. Returns the number of journals."""
    rows = _rows_of(data)
    if not rows:
        raise ParseError(_("The file holds no records."))
    header = [h.strip().casefold() for h in rows[0]]
    where: dict[str, int] = {}
    for field, names in LIST_HEADERS.items():
        for i, h in enumerate(header):
            if h in names and field not in where:
                where[field] = i
    if "title" not in where and "issn" not in where:
        raise ParseError(_("the header row names no journal title or ISSN column"), 1)
    entries = []
    for number, row in enumerate(rows[1:], start=2):

        def cell(field: str, row: list[str] = row) -> str:
            i = where.get(field)
            return row[i].strip() if i is not None and i < len(row) else ""

        title, issn = cell("title"), cell("issn").upper()
        if not title and not issn:
            continue
        if issn and not re.fullmatch(r"\d{4}-?\d{3}[\dX]", issn):
            raise ParseError(_("not an ISSN: %(text)s") % {"text": issn[:20]}, number)
        factor: Decimal | None = None
        if cell("impact_factor"):
            try:
                factor = Decimal(cell("impact_factor").replace(",", "."))
            except InvalidOperation as exc:
                raise ParseError(
                    _("not a number: %(text)s") % {"text": cell("impact_factor")[:20]}, number
                ) from exc
        if issn and "-" not in issn:
            issn = f"{issn[:4]}-{issn[4:]}"
        entries.append(
            JournalEntry(
                library=library,
                kind=kind,
                year=year,
                title=title[:500],
                title_key=normalise_title(title),
                issn=issn,
                quartile=cell("quartile").upper()[:4],
                impact_factor=factor,
            )
        )
    JournalEntry.objects.filter(library=library, kind=kind, year=year).delete()
    JournalEntry.objects.bulk_create(entries)
    subject.data_changed(library)
    audit.write(
        AuditAction.IMPORT,
        model="research.journal_entry",
        library_id=library.pk,
        after={"list": kind, "year": year, "journals": len(entries)},
    )
    return len(entries)
