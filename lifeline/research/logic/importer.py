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

from django.db import transaction
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.research.logic.formats import parse_bytes
from lifeline.research.logic.records import (
    ParseError,
    Record,
    match_key,
    normalise_name,
    normalise_title,
)
from lifeline.research.models import AffiliationVariant, BiblioRecord, CitedRef, JournalEntry


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


def _find(library: Library, rec: Record, key: str) -> BiblioRecord | None:
    qs = BiblioRecord.objects.filter(library=library)
    for field, value in (("doi", rec.doi), ("wos_ut", rec.wos_ut), ("scopus_eid", rec.scopus_eid)):
        if value:
            found = qs.filter(**{field: value}).first()
            if found is not None:
                return found
    if key:
        return qs.filter(match_key=key).first()
    return None


def _merge(obj: BiblioRecord, rec: Record) -> None:
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


@transaction.atomic
def write_records(library: Library, records: list[Record], fmt: str = "") -> ImportResult:
    result = ImportResult(fmt=fmt)
    variants = our_variants(library)
    for rec in records:
        key = match_key(rec)
        obj = _find(library, rec, key)
        if obj is None:
            obj = BiblioRecord(
                library=library,
                title=rec.title,
                match_key=key[:400],
                authors=rec.authors,
                author_keys=[normalise_name(a) for a in rec.authors],
                year=rec.year,
                sources=[],
                times_cited={},
            )
            result.created += 1
        else:
            result.merged += 1
        _merge(obj, rec)
        obj.is_ours = obj.is_ours or is_ours(rec.affiliations, variants)
        obj.save()
        CitedRef.objects.bulk_create(
            [CitedRef(library=library, citing=obj, doi=d[:300]) for d in set(rec.cited_dois)],
            ignore_conflicts=True,
        )
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
    audit.write(
        AuditAction.IMPORT,
        model="research.journal_entry",
        library_id=library.pk,
        after={"list": kind, "year": year, "journals": len(entries)},
    )
    return len(entries)
