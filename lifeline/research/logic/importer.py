"""Import of bibliographic exports and journal lists into a library's records.

All or nothing: the whole file is parsed first (a defect names its line and nothing is written),
then written in one transaction. Records are merged across sources: the same paper is found by
DOI, then WoS UT, then Scopus EID, then normalised title + year + first author; a merged record
gains the new database in `sources` and its times-cited figure per database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.research.logic import subject
from lifeline.research.logic.bulkwrite import NewRecord, insert_cited, insert_records
from lifeline.research.logic.formats import parse_bytes
from lifeline.research.logic.records import (
    ParseError,
    Record,
    match_key,
    normalise_name,
    normalise_title,
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


def is_ours(affiliations: list[str], variants: list[str]) -> bool:
    text = " ".join(affiliations).casefold()
    return any(v and v in text for v in variants)


IDS = ("doi", "wos_ut", "scopus_eid")
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


def _merge(obj: BiblioRecord | NewRecord, rec: Record) -> None:
    for field in ("doi", "wos_ut", "scopus_eid", "journal", "issn", "volume", "issue", "pages"):
        if not getattr(obj, field) and getattr(rec, field):
            setattr(obj, field, getattr(rec, field)[:300])
    if not obj.doc_type and rec.doc_type:
        obj.doc_type = rec.doc_type[:100]
    if rec.source not in obj.sources:
        obj.sources = [*obj.sources, rec.source]
    if rec.times_cited is not None:
        obj.times_cited = {**obj.times_cited, rec.source: rec.times_cited}
    if not obj.affiliations and rec.affiliations:
        obj.affiliations = rec.affiliations


def _existing(
    library: Library, records: list[Record], keys: list[str]
) -> dict[str, dict[str, int]]:
    """Pks of the library's records that this file's identifiers name: per identifier kind,
    value → pk (the first, as the lookup one record at a time found it)."""
    found: dict[str, dict[str, int]] = {f: {} for f in (*IDS, "match_key")}
    mine = BiblioRecord.objects.filter(library=library)
    if not mine.exists():
        return found  # a first import looks nothing up
    wanted = {f: sorted({getattr(r, f) for r in records if getattr(r, f)}) for f in IDS}
    wanted["match_key"] = sorted({k for k in keys if k})
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


@transaction.atomic
def write_records(library: Library, records: list[Record], fmt: str = "") -> ImportResult:
    """Merge the records into the library's: the same paper is found by DOI, then WoS UT, then
    Scopus EID, then normalised title + year + first author, among the stored records and the
    file's own earlier ones. Written in batches (lookups by chunks of identifiers, bulk inserts
    and updates): a million records are a few thousand statements, not millions."""
    result = ImportResult(fmt=fmt)
    variants = our_variants(library)
    keys = [match_key(rec) for rec in records]
    stored = _existing(library, records, keys)
    # new records of this file, by identifier, so a paper listed twice is one record
    pending: dict[str, dict[str, BiblioRecord | NewRecord]] = {f: {} for f in (*IDS, "match_key")}
    loaded: dict[int, BiblioRecord] = {}
    to_load = sorted({pk for m in stored.values() for pk in m.values()})
    # only what a merge reads and writes (not the title and author lists)
    stored_qs = BiblioRecord.objects.only("pk", "match_key", *UPDATED_FIELDS)
    for i in range(0, len(to_load), _chunk()):
        loaded.update(
            (r.pk, r) for r in _among(stored_qs, "id", to_load[i : i + _chunk()], "bigint")
        )
    # what each stored record was, so that only the ones this file changes are written back
    before = {pk: _state(obj) for pk, obj in loaded.items()}
    created: list[NewRecord] = []
    refs: list[tuple[BiblioRecord | NewRecord, list[str]]] = []
    for rec, key in zip(records, keys, strict=True):
        obj: BiblioRecord | NewRecord | None = None
        for field, value in (
            ("doi", rec.doi),
            ("wos_ut", rec.wos_ut),
            ("scopus_eid", rec.scopus_eid),
            ("match_key", key),
        ):
            if not value:
                continue
            pk = stored[field].get(value)
            obj = loaded.get(pk) if pk is not None else pending[field].get(value)
            if obj is not None:
                break
        if obj is None:
            obj = NewRecord.of(rec, key[:400], [normalise_name(a) for a in rec.authors])
            created.append(obj)
            result.created += 1
        else:
            result.merged += 1
            _merge(obj, rec)
        obj.is_ours = obj.is_ours or is_ours(rec.affiliations, variants)
        # what the paper is now known by (a merge may have given it a DOI) finds it again
        for field in IDS:
            if getattr(obj, field):
                pending[field].setdefault(getattr(obj, field), obj)
        if obj.match_key:
            pending["match_key"].setdefault(obj.match_key, obj)
        if rec.cited_dois:
            refs.append((obj, rec.cited_dois))
    insert_records(library, created)
    changed = [obj for pk, obj in loaded.items() if _state(obj) != before[pk]]
    BiblioRecord.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=500)
    insert_cited(library, ((int(obj.pk or 0), d) for obj, dois in refs for d in set(dois)))
    subject.data_changed(library)
    audit.write(
        AuditAction.IMPORT,
        model="research.biblio_record",
        library_id=library.pk,
        after={"format": fmt, "created": result.created, "merged": result.merged},
    )
    return result


def import_records(library: Library, data: bytes) -> ImportResult:
    """Parse every record first (ParseError names the line), then write them all."""
    fmt, records = parse_bytes(data)
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

    from lifeline.research.logic.records import decode

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
