"""Raw writes of new bibliographic records and cited references: what a million-record import
needs. Django's bulk_create spent most of an import building SQL and model instances (profiled:
18 s for 10,000 records on SQLite, two thirds of it in the ORM), so new records are prepared as
plain rows and written with COPY (PostgreSQL) or executemany (SQLite), with their ids allocated
beforehand so that cited references can point at them without reading them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.db import connection
from django.utils import timezone

try:  # the C function json.dumps itself uses for a str
    from _json import encode_basestring_ascii as _quote
except ImportError:  # pragma: no cover - CPython has it
    from json.encoder import py_encode_basestring_ascii as _quote

from lifeline.core.models import Library
from lifeline.research.logic.records import Record
from lifeline.research.models import BiblioRecord, CitedRef

COLUMNS = (
    "id",
    "library_id",
    "title",
    "match_key",
    "authors",
    "author_keys",
    "year",
    "journal",
    "issn",
    "volume",
    "issue",
    "pages",
    "doi",
    "wos_ut",
    "scopus_eid",
    "doc_type",
    "sources",
    "times_cited",
    "affiliations",
    "is_ours",
    "created_at",
)
BATCH = 5000


class NewRecord:
    """A record this import creates: the attributes `importer._merge` reads and sets."""

    __slots__ = (
        "affiliations",
        "author_keys",
        "authors",
        "doc_type",
        "doi",
        "is_ours",
        "issn",
        "issue",
        "journal",
        "match_key",
        "pages",
        "pk",
        "scopus_eid",
        "sources",
        "times_cited",
        "title",
        "volume",
        "wos_ut",
        "year",
    )

    def __init__(
        self, title: str, match_key: str, authors: list[str], keys: list[str], year: int | None
    ) -> None:
        self.pk: int | None = None
        self.title, self.match_key, self.authors, self.author_keys = title, match_key, authors, keys
        self.year = year
        self.journal = self.issn = self.volume = self.issue = self.pages = ""
        self.doi = self.wos_ut = self.scopus_eid = self.doc_type = ""
        self.sources: list[str] = []
        self.times_cited: dict[str, int] = {}
        self.affiliations: list[str] = []
        self.is_ours = False

    @classmethod
    def of(cls, rec: Record, match_key: str, keys: list[str]) -> NewRecord:
        """A new record from the file's record: what `importer._merge` gives a fresh one."""
        new = cls(rec.title, match_key, rec.authors, keys, rec.year)
        new.journal, new.issn = rec.journal[:300], rec.issn[:300]
        new.volume, new.issue, new.pages = rec.volume[:300], rec.issue[:300], rec.pages[:300]
        new.doi, new.wos_ut, new.scopus_eid = rec.doi[:300], rec.wos_ut[:300], rec.scopus_eid[:300]
        new.doc_type = rec.doc_type[:100]
        new.sources = [rec.source]
        if rec.times_cited is not None:
            new.times_cited = {rec.source: rec.times_cited}
        new.affiliations = rec.affiliations
        return new


def dump_strs(values: list[str]) -> str:
    """`json.dumps(values)` for a list of strings, byte for byte: json.dumps goes through the
    Python layer of its encoder (5 µs a call; five calls a record were a fifth of an import's
    CPU), this is one C call a string and a join."""
    return "[" + ", ".join(map(_quote, values)) + "]"


def dump_counts(values: dict[str, int]) -> str:
    """`json.dumps(values)` for a dict of str to int (times cited per database)."""
    return "{" + ", ".join(f"{_quote(k)}: {int(v)}" for k, v in values.items()) + "}"


def _ids(count: int) -> list[int]:
    table = BiblioRecord._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the import runs in one transaction and SQLite has one writer at a time; a
        # concurrent import that took the same ids fails on the primary key and rolls back whole.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - our table
        top = int(cursor.fetchone()[0])
        return list(range(top + 1, top + 1 + count))


def insert_records(library: Library, records: list[NewRecord]) -> None:
    """Write the new records (ids set on them) in one pass."""
    if not records:
        return
    for rec, pk in zip(records, _ids(len(records)), strict=True):
        rec.pk = pk
    now = connection.ops.adapt_datetimefield_value(timezone.now())

    def rows() -> Iterable[tuple[Any, ...]]:
        for r in records:
            yield (
                r.pk,
                library.pk,
                r.title,
                r.match_key,
                dump_strs(r.authors),
                dump_strs(r.author_keys),
                r.year,
                r.journal[:500],
                r.issn[:40],
                r.volume[:40],
                r.issue[:40],
                r.pages[:40],
                r.doi[:300],
                r.wos_ut[:40],
                r.scopus_eid[:40],
                r.doc_type[:100],
                dump_strs(r.sources),
                dump_counts(r.times_cited),
                dump_strs(r.affiliations),
                r.is_ours,
                now,
            )

    _write(BiblioRecord._meta.db_table, COLUMNS, rows())


def insert_cited(library: Library, pairs: Iterable[tuple[int, str]]) -> None:
    """(citing pk, DOI) pairs; a pair already stored is skipped (the unique constraint)."""
    table = connection.ops.quote_name(CitedRef._meta.db_table)
    sql = (
        f"INSERT INTO {table} (library_id, citing_id, doi) VALUES (%s, %s, %s) "  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )
    batch: list[tuple[int, int, str]] = []
    with connection.cursor() as cursor:
        for pk, doi in pairs:
            batch.append((library.pk, pk, doi[:300]))
            if len(batch) >= BATCH:
                cursor.executemany(sql, cast(Any, batch))
                batch = []
        if batch:
            cursor.executemany(sql, cast(Any, batch))


def _write(table_name: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    table = connection.ops.quote_name(table_name)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg 3 beneath Django's wrapper; text values go to json/jsonb columns as text
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our own names
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, cast(Any, batch))
                batch = []
        if batch:
            cursor.executemany(sql, cast(Any, batch))
