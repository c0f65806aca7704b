"""Raw writes of new bibliographic records and cited references: what a million-record import
needs. Django's bulk_create spent most of an import building SQL and model instances (profiled:
18 s for 10,000 records on SQLite, two thirds of it in the ORM), so new records are prepared as
plain rows and written with COPY (PostgreSQL) or executemany (SQLite), with their ids allocated
beforehand so that cited references can point at them without reading them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from django.db import connection
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.research.logic.wospool import Row, dump_counts, dump_strs, make_row
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
    def from_row(cls, row: Row) -> NewRecord:
        """A record of this file, made ready as a row (`wospool.item`), that a later record of
        the file merges into: its values back as attributes."""
        new = cls(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4])
        new.journal, new.issn, new.volume, new.issue, new.pages = row[5:10]
        new.doi, new.wos_ut, new.scopus_eid, new.doc_type = row[10:14]
        new.sources, new.times_cited, new.affiliations = map(json.loads, row[14:17])
        new.is_ours = row[17]
        return new

    def row(self) -> Row:
        return make_row(
            self.title,
            self.match_key,
            self.authors,
            self.author_keys,
            self.year,
            (
                self.journal,
                self.issn,
                self.volume,
                self.issue,
                self.pages,
                self.doi,
                self.wos_ut,
                self.scopus_eid,
                self.doc_type,
            ),
            self.sources,
            self.times_cited,
            self.affiliations,
            self.is_ours,
        )


__all__ = ["dump_counts", "dump_strs"]  # where the tests and earlier callers find them


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


def insert_records(library: Library, records: list[Row | NewRecord]) -> list[int]:
    """Write the new records in one pass: rows made ready where they were parsed, and records
    a later one of the file merged into. Returns their ids (also set on the `NewRecord`s)."""
    if not records:
        return []
    ids = _ids(len(records))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    lib = library.pk

    def rows() -> Iterable[Row]:
        for pk, r in zip(ids, records, strict=True):
            if isinstance(r, NewRecord):
                r.pk = pk
                yield (pk, lib, *r.row(), now)
            else:
                yield (pk, lib, *r, now)

    _write(BiblioRecord._meta.db_table, COLUMNS, rows())
    return ids


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
