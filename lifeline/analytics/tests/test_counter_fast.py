"""The fast (polars) reader of tabular reports agrees with the row-by-row reader on every official
sample, and whenever it finds something wrong the row-by-row reader words the message with the
line and column, so a big file is refused as precisely as a small one."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from lifeline.analytics.counter.fast import fast_tabular
from lifeline.analytics.counter.parse import (
    CounterError,
    ParsedReport,
    decode,
    parse_report,
    parse_tabular,
)
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import UsageItem, UsageRecord, UsageReport
from lifeline.analytics.tests.conftest import COUNTER_DATA

TSV_SAMPLES = sorted(COUNTER_DATA.glob("r5*/*.tsv"))


def slow(text: str, delimiter: str = "\t") -> ParsedReport:
    return parse_tabular(list(csv.reader(io.StringIO(text), delimiter=delimiter)), "tsv")


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter="\t"))


def heading(rows: list[list[str]]) -> int:
    return next(i for i, r in enumerate(rows) if "Metric_Type" in r)


def repeated(rows: list[list[str]], times: int) -> list[list[str]]:
    """The sample's body `times` over, each copy with its own titles (no duplicate rows)."""
    head = heading(rows)
    body = [r for r in rows[head + 1 :] if r]
    copies = [[f"{r[0]} {k}", *r[1:]] for k in range(times) for r in body]
    return rows[: head + 1] + copies


def tsv(rows: list[list[Any]]) -> str:
    return "\n".join("\t".join(str(c) for c in r) for r in rows) + "\n"


@pytest.mark.parametrize("path", TSV_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_reader_agrees_with_row_by_row_reader_on_every_sample(path: Path) -> None:
    text = decode(path.read_bytes())
    fast = fast_tabular(text, "\t", "tsv")
    assert fast is not None and fast.frame is not None, "the sample takes the fast path"
    careful = slow(text)
    assert fast.usage_rows() == careful.usage_rows()
    assert fast.totals() == careful.totals() and fast.platforms == careful.platforms
    assert (fast.report_id, fast.release, fast.begin, fast.end, fast.exceptions) == (
        careful.report_id,
        careful.release,
        careful.begin,
        careful.end,
        careful.exceptions,
    )


def test_csv_with_quoted_titles_and_crlf_takes_the_fast_path() -> None:
    rows = rows_of(COUNTER_DATA / "r50" / "Sample-TR_J1.tsv")
    head = heading(rows)
    rows[head + 1][0] = 'Journal of "Quotes", Commas and Tabs'
    rows[head + 2][0] = "  Padded Title  "
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    fast = fast_tabular(text, ",", "csv")
    assert fast is not None
    careful = parse_tabular(list(csv.reader(io.StringIO(text))), "csv")
    assert fast.usage_rows() == careful.usage_rows()
    titles = {r[2][0] for r in fast.usage_rows() if r[2]}
    assert 'Journal of "Quotes", Commas and Tabs' in titles and "Padded Title" in titles


def test_blank_lines_and_extra_cells_are_read_as_the_row_by_row_reader_reads_them() -> None:
    rows = rows_of(COUNTER_DATA / "r50" / "Sample-TR_J1.tsv")
    head = heading(rows)
    rows.insert(head + 2, ["", "", ""])
    rows.insert(head + 4, [])
    rows[head + 1] = [*rows[head + 1], "", "stray"]
    text = tsv(rows)
    fast = fast_tabular(text, "\t", "tsv")
    assert fast is not None and fast.usage_rows() == slow(text).usage_rows()


@pytest.mark.parametrize(
    "shape",
    [
        'stray "quote inside" a field',  # quotes not around a whole field
        '"spans\ntwo lines"',  # a quoted field across lines
        "1,234",  # a count with a thousands separator
        "3.0",  # a count written as a decimal
    ],
)
def test_unusual_cells_go_to_the_row_by_row_reader(shape: str) -> None:
    rows = rows_of(COUNTER_DATA / "r50" / "Sample-TR_J1.tsv")
    head = heading(rows)
    if shape[0].isdigit():
        total_at = rows[head].index("Reporting_Period_Total")
        rows[head + 1][-1] = shape
        months = [float(c.replace(",", "")) for c in rows[head + 1][total_at + 1 :]]
        rows[head + 1][total_at] = str(int(sum(months)))
    else:
        rows[head + 1][0] = shape
    text = tsv(rows)
    assert fast_tabular(text, "\t", "tsv") is None
    # ... which reads it (or refuses it) as before.
    parsed = parse_report(text.encode(), "x.tsv")
    assert parsed.frame is None and parsed.usage_rows() == slow(text).usage_rows()


def refused_message(data: bytes) -> str:
    with pytest.raises(CounterError) as info:
        parse_report(data, "x.tsv")
    return " | ".join(str(p) for p in info.value.problems)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("Feb-2016", "-3", "column “Feb-2016”: The count -3 is negative."),
        ("Mar-2016", "lots", "column “Mar-2016”: “lots” is not a whole number."),
        ("Metric_Type", "No_License", "column “Metric_Type”: No_License is not a metric type"),
        ("Platform", "", "column “Platform”: The platform is empty."),
        (
            "Reporting_Period_Total",
            "999",
            "column “Reporting_Period_Total”: Reporting_Period_Total is 999 but the months",
        ),
    ],
)
def test_problems_found_in_a_large_file_name_the_line(
    column: str, value: str, expected: str
) -> None:
    rows = rows_of(COUNTER_DATA / "r50" / "Sample-TR_J1.tsv")
    head = heading(rows)
    rows = repeated(rows, 1500)  # 6,000 rows: big enough to matter, quick to test
    bad = head + 1 + 4321
    rows[bad][rows[head].index(column)] = value
    assert fast_tabular(tsv(rows), "\t", "tsv") is None
    message = refused_message(tsv(rows).encode())
    assert f"line {bad + 1}, {expected}" in message


def test_a_repeated_row_is_counted_once_and_named() -> None:
    rows = repeated(rows_of(COUNTER_DATA / "r50" / "Sample-TR_J1.tsv"), 500)
    head = heading(rows)
    rows[head + 1500] = rows[head + 7][:]
    assert fast_tabular(tsv(rows), "\t", "tsv") is None
    parsed = parse_report(tsv(rows).encode(), "x.tsv")
    (note,) = [w for w in parsed.warnings if w["code"] == "duplicate_lines"]
    assert note["params"]["where"] == str(head + 1501)


def test_a_short_row_in_a_large_file_names_the_line() -> None:
    rows = rows_of(COUNTER_DATA / "r50" / "Sample-TR_J1.tsv")
    head = heading(rows)
    rows = repeated(rows, 500)
    rows[head + 1000] = rows[head + 1000][:-2]
    message = refused_message(tsv(rows).encode())
    assert f"line {head + 1001}: The row has" in message


@pytest.mark.django_db
def test_fast_and_row_by_row_imports_store_the_same_counts(library_a: Any, monkeypatch) -> None:
    path = COUNTER_DATA / "r51" / "TR_sample_r51.tsv"
    data = path.read_bytes()
    fast_report = import_file(library_a, data, "tr.tsv")
    fast_rows = sorted(
        UsageRecord.objects.filter(report=fast_report).values_list(
            "source__platform", "item__key", "metric", "month", "count"
        )
    )
    items = UsageItem.objects.filter(library=library_a).count()
    monkeypatch.setattr("lifeline.analytics.counter.fast.fast_tabular", lambda *a: None)
    slow_report = import_file(library_a, data, "tr.tsv")
    assert slow_report.replaced_rows == fast_report.row_count
    assert list(UsageReport.objects.filter(library=library_a)) == [slow_report]
    slow_rows = sorted(
        UsageRecord.objects.filter(report=slow_report).values_list(
            "source__platform", "item__key", "metric", "month", "count"
        )
    )
    assert slow_rows == fast_rows and slow_report.totals == fast_report.totals
    # The titles were found again, not stored twice; keys are UsageItem.make_key's.
    assert UsageItem.objects.filter(library=library_a).count() == items
    item = UsageItem.objects.filter(library=library_a).first()
    assert item is not None
    parsed = parse_report(data, "tr.tsv")
    keys = {UsageItem.make_key(r[2]) for r in parsed.usage_rows() if r[2]}
    assert item.key in keys and len(keys) == items


def stored_counts(report: UsageReport) -> set[tuple[str, str, int, Any, int]]:
    return set(
        UsageRecord.objects.filter(report=report).values_list(
            "source__platform", "item__key", "metric", "month", "count"
        )
    )


def expected_counts(parsed: ParsedReport) -> set[tuple[str, str, int, Any, int]]:
    from lifeline.analytics.choices import METRIC_BY_NAME

    sums: dict[tuple[str, str, int, Any], int] = {}
    for platform, _db, item, metric, month, n in parsed.usage_rows():
        assert item is not None
        key = (platform, UsageItem.make_key(item), METRIC_BY_NAME[metric], month)
        sums[key] = sums.get(key, 0) + n
    return {(*k, n) for k, n in sums.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("old_sqlite", [False, True], ids=["json_each", "sqlite<3.38"])
def test_items_old_and_new_get_the_right_ids(library_a: Any, monkeypatch, old_sqlite: bool) -> None:
    if old_sqlite:
        # The path for SQLite builds without the JSON operators (on PostgreSQL: unused).
        class OldSqlite:
            sqlite_version_info = (3, 37, 2)

        monkeypatch.setattr("lifeline.analytics.importer.sqlite3", OldSqlite)
    rows = rows_of(COUNTER_DATA / "r51" / "TR_sample_r51.tsv")
    head = heading(rows)
    first = import_file(library_a, tsv(rows).encode(), "tr.tsv")
    assert stored_counts(first) == expected_counts(parse_report(tsv(rows).encode(), "tr.tsv"))
    # Half the titles renamed: new items beside known ones, in one import.
    for i, row in enumerate(rows[head + 1 :]):
        if row and i % 2:
            row[0] = f"{row[0]} (renamed)"
    data = tsv(rows).encode()
    second = import_file(library_a, data, "tr.tsv")
    assert stored_counts(second) == expected_counts(parse_report(data, "tr.tsv"))
    keys = UsageItem.objects.filter(library=library_a).values_list("key", flat=True)
    assert len(keys) == len(set(keys))
