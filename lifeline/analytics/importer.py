"""Store a checked COUNTER report: replace what an earlier import said about the same
platforms, report and months (so re-importing never double counts), map platforms and
databases to registry resources, and insert the counts in large batches.

The rows travel as one polars frame (either reader's output): titles are de-duplicated and
hashed once per distinct title, looked up and inserted set-wise, and the counts go in by COPY
(PostgreSQL) or json_each() statements of 200,000 rows (SQLite), all in one transaction."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from django.db import connection, transaction

from lifeline.analytics.choices import METRIC_BY_NAME, ImportSource
from lifeline.analytics.counter.parse import ITEM_COLUMNS, ParsedReport, parse_report
from lifeline.analytics.models import UsageItem, UsageRecord, UsageReport, UsageSource
from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.registry.models import Resource, normalise_text

BATCH = 5000
SQLITE_BATCH = 200_000
COPY_CHUNK = 200_000
# The SQLite page cache while an import runs, in KiB (the default is 2 MiB).
SQLITE_CACHE_KIB = 256 * 1024
PG_WORK_MEM = "256MB"


def import_file(
    library: Library,
    data: bytes,
    filename: str = "",
    *,
    user: Any = None,
    source_kind: str = ImportSource.UPLOAD,
) -> UsageReport:
    """Parse and store; raises `CounterError` (nothing stored) when the file is wrong."""
    return store_report(
        library, parse_report(data, filename), filename=filename, user=user, source_kind=source_kind
    )


def store_report(
    library: Library,
    parsed: ParsedReport,
    *,
    filename: str = "",
    user: Any = None,
    source_kind: str = ImportSource.UPLOAD,
) -> UsageReport:
    frame = parsed.usage_frame()
    with transaction.atomic(), _bulk_session():
        platforms = sorted(frame["platform"].unique().to_list())
        replaced = _replace_previous(library, parsed, platforms)
        pairs = frame.select("platform", "database").unique()
        sources = _sources(library, set(pairs.iter_rows()))
        frame = frame.join(
            pl.DataFrame(
                [(p, d, pk) for (p, d), pk in sources.items()],
                schema={"platform": pl.String, "database": pl.String, "source_id": pl.Int64},
                orient="row",
            ),
            on=["platform", "database"],
            how="left",
        )
        frame = _with_item_ids(library, frame)
        # Attribute breakdowns (YOP, Access_Type, ...) of one title add up into one row.
        counts = frame.group_by(
            "source_id",
            "item_id",
            pl.col("metric").replace_strict(METRIC_BY_NAME, return_dtype=pl.Int64),
            "month",
            maintain_order=True,
        ).agg(pl.col("count").sum())
        report = UsageReport.objects.create(
            library=library,
            report_id=parsed.report_id,
            release=parsed.release,
            source_kind=source_kind,
            filename=filename[:255],
            file_format=parsed.file_format,
            begin=parsed.begin,
            end=parsed.end,
            platforms=platforms,
            institution_name=parsed.institution_name[:300],
            customer_id=parsed.customer_id[:200],
            created_by=parsed.created_by[:300],
            totals=parsed.totals(),
            tdm_totals=parsed.tdm_totals(),
            exceptions=parsed.exceptions,
            warnings=parsed.warnings,
            row_count=counts.height,
            replaced_rows=replaced,
            monthly_details=parsed.monthly_details,
            imported_by=user
            if user is not None and getattr(user, "is_authenticated", False)
            else None,
        )
        _insert(report.pk, counts)
        audit.write(
            AuditAction.IMPORT,
            report,
            after={
                "report": parsed.report_id,
                "rows": counts.height,
                "replaced": replaced,
                "totals": report.totals,
                "warnings": len(parsed.warnings),
            },
            message=f"COUNTER {parsed.report_id} {parsed.begin}–{parsed.end} {filename}",
        )
    return report


@contextmanager
def _bulk_session() -> Iterator[None]:
    """More memory for the import's connection while it runs: SQLite's page cache (a million
    rows touch four indexes), PostgreSQL's work_mem. Nothing about durability changes, and
    both go back afterwards."""
    if connection.vendor == "postgresql":
        # SET LOCAL ends with the transaction: room for the anti-join and the id lookup over
        # the staged titles in memory instead of batches on disk.
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
        yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _replace_previous(library: Library, parsed: ParsedReport, platforms: list[str]) -> int:
    """Delete earlier counts of the same report for these platforms and months; return how many."""
    months = parsed.months
    report_ids = list(
        UsageReport.objects.filter(library=library, report_id=parsed.report_id).values_list(
            "pk", flat=True
        )
    )
    source_ids = list(
        UsageSource.objects.filter(library=library, platform__in=platforms).values_list(
            "pk", flat=True
        )
    )
    if not report_ids or not source_ids:
        return 0
    old = UsageRecord.objects.filter(
        report_id__in=report_ids,
        source_id__in=source_ids,
        month__gte=months[0],
        month__lte=months[-1],
    )
    # A plain DELETE: the ORM's collector would load every row because audit listens to post_delete,
    # and usage counts are not audited one by one (the import's IMPORT row records the replacement).
    replaced = old._raw_delete(old.db)
    # Earlier reports now wholly superseded (same platforms, period inside the new one,
    # nothing left) go.
    for report in UsageReport.objects.filter(
        library=library, report_id=parsed.report_id, begin__gte=parsed.begin, end__lte=parsed.end
    ):
        if set(report.platforms) <= set(platforms) and not report.records.exists():
            report.delete()
    return replaced


def match_resource(
    library: Library, platform: str, database: str, resources: list[Resource] | None = None
) -> Resource | None:
    """A registry resource named like the database (else the platform): name, English name, key."""
    pool = resources if resources is not None else list(Resource.objects.filter(library=library))
    names: dict[str, Resource] = {}
    for resource in pool:
        for name in (resource.name, resource.name_en, resource.key):
            if name:
                names.setdefault(normalise_text(name), resource)
    for wanted in (database, platform):
        if wanted and (found := names.get(normalise_text(wanted))):
            return found
    return None


def _sources(library: Library, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    existing = {
        (s.platform, s.database): s.pk
        for s in UsageSource.objects.filter(library=library, platform__in={p for p, _d in pairs})
    }
    missing = [pair for pair in pairs if pair not in existing]
    if missing:
        resources = list(Resource.objects.filter(library=library))
        # A database without its own resource inherits the mapping staff gave its platform.
        platform_map = {
            s.platform: s.resource_id
            for s in UsageSource.objects.filter(
                library=library, database="", resource__isnull=False
            )
        }
        new = []
        for platform, database in missing:
            match = match_resource(library, platform, database, resources)
            new.append(
                UsageSource(
                    library=library,
                    platform=platform[:300],
                    database=database[:400],
                    resource_id=match.pk if match else platform_map.get(platform),
                )
            )
        UsageSource.objects.bulk_create(new, batch_size=BATCH)
        existing = {
            (s.platform, s.database): s.pk
            for s in UsageSource.objects.filter(
                library=library, platform__in={p for p, _d in pairs}
            )
        }
    return existing


def _with_item_ids(library: Library, frame: pl.DataFrame) -> pl.DataFrame:
    """Add `item_id`: each distinct title/item of the report stored once per library (found by
    the SHA-1 of its title and identifiers, `UsageItem.make_key`), new ones inserted in bulk."""
    if frame.height == 0 or frame["title"].null_count() == frame.height:
        return frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("item_id"))
    frame = frame.with_columns(pl.concat_str(ITEM_COLUMNS, separator="\x1f").alias("_key"))
    unique = frame.select("_key", *ITEM_COLUMNS).unique("_key", maintain_order=True)
    # The same digest as UsageItem.make_key ("\x1f".join of the seven parts), without a call each.
    sha1 = hashlib.sha1
    hashes = [sha1(k.encode(), usedforsecurity=False).hexdigest() for k in unique["_key"]]
    unique = unique.with_columns(pl.Series("hash", hashes, dtype=pl.String))
    ids = _upsert_items(library, unique)
    unique = unique.select("_key", pl.Series("item_id", ids, dtype=pl.Int64))
    return frame.join(unique, on="_key", how="left").drop("_key")


# The stored length of each UsageItem column (the key is the hash of the untruncated values).
ITEM_LIMITS = {
    "title": 1000,
    "doi": 300,
    "proprietary_id": 300,
    "isbn": 20,
    "print_issn": 20,
    "online_issn": 20,
}
STAGE = "analytics_counter_item_stage"


def _upsert_items(library: Library, unique: pl.DataFrame) -> list[int]:
    """Insert the report's distinct items the library lacks in one statement (per chunk), then
    read every id back in `unique`'s order."""
    staged = unique.select(
        pl.col("hash").alias("key"), *(pl.col(c).str.slice(0, n) for c, n in ITEM_LIMITS.items())
    )
    if connection.vendor == "postgresql":
        return _upsert_items_pg(library, staged)
    if sqlite3.sqlite_version_info < (3, 38):  # no json_each ->>: look up in batches
        return _upsert_items_by_batches(library, staged)
    ids = _sqlite_item_ids(library, staged)
    missing = [n for n, pk in enumerate(ids) if pk is None]
    if missing:
        # Only the items the library lacks are written: a re-import writes none.
        new = staged[missing]
        table = UsageItem._meta.db_table
        names = ", ".join(ITEM_LIMITS)
        values = ", ".join(f"j.value ->> {i}" for i in range(len(ITEM_LIMITS) + 1))
        with connection.cursor() as cursor:
            for _start, chunk in _json_chunks(new):
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                seq = cursor.fetchone()
                before = seq[0] if seq else 0
                # WHERE true: SQLite needs it to tell ON CONFLICT from a join condition.
                cursor.execute(
                    f'INSERT INTO "{table}" (library_id, key, {names}) '  # noqa: S608
                    f"SELECT %s, {values} FROM json_each(%s) j WHERE true "
                    "ON CONFLICT (library_id, key) DO NOTHING",
                    [library.pk, chunk],
                )
                inserted = cursor.rowcount
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                after = cursor.fetchone()[0]
                if inserted == after - before == min(SQLITE_BATCH, new.height - _start):
                    # Every row went in (none taken meanwhile), and an AUTOINCREMENT table
                    # numbers rows one after the other in the order json_each() gives them:
                    # no need to look the new ids up.
                    for k in range(inserted):
                        ids[missing[_start + k]] = before + 1 + k
        still = [n for n in missing if ids[n] is None]
        if still:
            for n, pk in zip(still, _sqlite_item_ids(library, staged[still]), strict=True):
                ids[n] = pk
    assert None not in ids
    return ids  # type: ignore[return-value]


def _sqlite_item_ids(library: Library, staged: pl.DataFrame) -> list[int | None]:
    """The ids of the staged items the library has (None for the others), in staged order."""
    table = UsageItem._meta.db_table
    ids: list[int | None] = [None] * staged.height
    with connection.cursor() as cursor:
        for start, chunk in _json_chunks(staged.select("key")):
            # One JSON text back instead of a row per item: fetching rows costs more. CROSS JOIN
            # keeps SQLite's planner from scanning the items table once per staged key.
            cursor.execute(
                "SELECT json_group_array(json_array(j.key, i.id)) FROM json_each(%s) j "  # noqa: S608
                f'CROSS JOIN "{table}" i ON i.library_id = %s AND i.key = j.value ->> 0',
                [chunk, library.pk],
            )
            for n, pk in json.loads(cursor.fetchone()[0]):
                ids[start + n] = pk
    return ids


def _upsert_items_pg(library: Library, staged: pl.DataFrame) -> list[int]:
    """PostgreSQL: COPY the items into a temporary table, insert the missing ones from there
    and read the ids back joined on it."""
    table = UsageItem._meta.db_table
    names = ", ".join(ITEM_LIMITS)
    staged = staged.with_row_index("n")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (n bigint, key varchar(40) NOT NULL, "
            + ", ".join(f"{c} text NOT NULL" for c in ITEM_LIMITS)
            + ")"
        )
        _bulk_load(cursor, STAGE, tuple(staged.columns), staged)
        # Temporary tables have no statistics: without them the planner probes the item index
        # once per staged row instead of one hash anti-join.
        cursor.execute(f"ANALYZE {STAGE}")
        # The anti-join leaves out the items the library has: a re-import inserts nothing, and
        # ON CONFLICT only has to settle a race with another import, not every existing title.
        cursor.execute(
            f'INSERT INTO "{table}" (library_id, key, {names}) '  # noqa: S608 - names are ours
            f"SELECT %s, s.key, {', '.join(f's.{c}' for c in ITEM_LIMITS)} FROM {STAGE} s "
            f'WHERE NOT EXISTS (SELECT 1 FROM "{table}" i WHERE i.library_id = %s '
            # In key order: the unique index then grows at one end instead of taking 500,000
            # inserts at random places (the keys are hashes), a third of the time.
            "AND i.key = s.key) ORDER BY s.key ON CONFLICT (library_id, key) DO NOTHING",
            [library.pk, library.pk],
        )
        cursor.execute(
            f'SELECT s.n, i.id FROM {STAGE} s JOIN "{table}" i '  # noqa: S608 - names are ours
            "ON i.library_id = %s AND i.key = s.key",
            [library.pk],
        )
        found = cursor.fetchall()
        cursor.execute(f"DROP TABLE {STAGE}")
    ids = [0] * staged.height
    for n, pk in found:
        ids[n] = pk
    assert all(ids)
    return ids


def _upsert_items_by_batches(library: Library, staged: pl.DataFrame) -> list[int]:
    """SQLite without JSON operators: insert with executemany, look the ids up by key."""
    table = UsageItem._meta.db_table
    names = ", ".join(ITEM_LIMITS)
    marks = ", ".join(["%s"] * (len(ITEM_LIMITS) + 2))
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" (library_id, key, {names}) VALUES ({marks}) '  # noqa: S608
            "ON CONFLICT (library_id, key) DO NOTHING",
            [(library.pk, *row) for row in staged.iter_rows()],
        )
    keys = staged["key"].to_list()
    found: dict[str, int] = {}
    for i in range(0, len(keys), BATCH):
        found.update(
            UsageItem.objects.filter(library=library, key__in=keys[i : i + BATCH]).values_list(
                "key", "pk"
            )
        )
    return [found[k] for k in keys]


def _json_cells(frame: pl.DataFrame) -> pl.Series:
    """Each row of the frame as the inside of a JSON array ("a",1,null)."""
    # A one-field struct encodes its cell as {"c":...}: keep what follows the colon.
    cells = [
        pl.struct(pl.col(c)).struct.json_encode().str.slice(len(c) + 4).str.strip_suffix("}")
        for c in frame.columns
    ]
    return frame.select(pl.concat_str(cells, separator=",").alias("row"))["row"]


def _json_chunks(frame: pl.DataFrame) -> Iterator[tuple[int, str]]:
    """(first row, JSON array of row arrays) per SQLITE_BATCH rows: what json_each() unpacks."""
    for start in range(0, frame.height, SQLITE_BATCH):
        rows = _json_cells(frame.slice(start, SQLITE_BATCH))
        yield start, "[[" + rows.str.join("],[").item() + "]]"


def _bulk_load(cursor: Any, table: str, columns: tuple[str, ...], frame: pl.DataFrame) -> None:
    """Append a frame's rows (its columns in the order of `columns`). PostgreSQL streams them
    as CSV through one COPY. SQLite takes each chunk as one JSON array that json_each() unpacks
    inside SQLite: a quarter less time than executemany, which binds every row from Python."""
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.vendor == "postgresql":
        # polars writes "" for an empty string and nothing for NULL, as COPY's CSV form reads them.
        with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN (FORMAT csv)') as copy:
            for start in range(0, frame.height, COPY_CHUNK):
                copy.write(frame.slice(start, COPY_CHUNK).write_csv(include_header=False).encode())
        return
    if sqlite3.sqlite_version_info < (3, 38):  # no ->> operator: bind row by row
        marks = ", ".join(["%s"] * len(columns))
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - names are ours
        for start in range(0, frame.height, SQLITE_BATCH):
            cursor.executemany(sql, frame.slice(start, SQLITE_BATCH).iter_rows())
        return
    values = ", ".join(f"value ->> {i}" for i in range(len(columns)))
    sql = f'INSERT INTO "{table}" ({names}) SELECT {values} FROM json_each(%s)'  # noqa: S608
    for _start, chunk in _json_chunks(frame):
        cursor.execute(sql, [chunk])


def _insert(report_id: int, counts: pl.DataFrame) -> None:
    # Sorted by title, so the item index takes its entries in order rather than at random.
    rows = counts.sort("item_id", nulls_last=True).select(
        pl.lit(report_id, dtype=pl.Int64).alias("report_id"),
        "source_id",
        "item_id",
        "metric",
        pl.col("month").dt.strftime("%Y-%m-%d"),
        "count",
    )
    with connection.cursor() as cursor:
        _bulk_load(cursor, UsageRecord._meta.db_table, tuple(rows.columns), rows)
