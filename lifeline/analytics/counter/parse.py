"""Read a COUNTER R5.0 / R5.1 report (JSON, TSV, CSV or XLSX) into checked usage rows.

Everything is checked before anything is stored: `parse_report` either returns a complete
`ParsedReport` or raises `CounterError` listing each problem with the field, the line (or
JSON path) and the column, so that a librarian can fix the file, and nothing is half-imported.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from lifeline.analytics.counter import notes

# The readers' shared names, re-exported: `parse` is where callers look for them.
from lifeline.analytics.counter.base import (
    FRAME_SCHEMA as FRAME_SCHEMA,
)
from lifeline.analytics.counter.base import (
    ID_COLUMNS as ID_COLUMNS,
)
from lifeline.analytics.counter.base import (
    ID_TYPES as ID_TYPES,
)
from lifeline.analytics.counter.base import (
    ITEM_COLUMNS as ITEM_COLUMNS,
)
from lifeline.analytics.counter.base import (
    JSON_HEADER_FIELDS as JSON_HEADER_FIELDS,
)
from lifeline.analytics.counter.base import (
    MAX_PROBLEMS as MAX_PROBLEMS,
)
from lifeline.analytics.counter.base import (
    TDM_PREFIX as TDM_PREFIX,
)
from lifeline.analytics.counter.base import (
    TSV_HEADER_FIELDS as TSV_HEADER_FIELDS,
)
from lifeline.analytics.counter.base import (
    TSV_REQUIRED_FIELDS as TSV_REQUIRED_FIELDS,
)
from lifeline.analytics.counter.base import (
    CounterError as CounterError,
)
from lifeline.analytics.counter.base import (
    ItemKey as ItemKey,
)
from lifeline.analytics.counter.base import (
    MetricSorter as MetricSorter,
)
from lifeline.analytics.counter.base import (
    ParsedReport as ParsedReport,
)
from lifeline.analytics.counter.base import (
    Problem as Problem,
)
from lifeline.analytics.counter.base import (
    UsageRow as UsageRow,
)
from lifeline.analytics.counter.base import (
    _check_attributes as _check_attributes,
)
from lifeline.analytics.counter.base import (
    _Collector as _Collector,
)
from lifeline.analytics.counter.base import (
    _count as _count,
)
from lifeline.analytics.counter.base import (
    _quiet_count as _quiet_count,
)
from lifeline.analytics.counter.base import (
    _spec_for as _spec_for,
)
from lifeline.analytics.counter.base import (
    is_tdm as is_tdm,
)
from lifeline.analytics.counter.base import (
    tdm_only as tdm_only,
)
from lifeline.analytics.counter.dates import month_range, parse_day, parse_month
from lifeline.analytics.counter.spec import (
    ATTRIBUTES,
    ReportSpec,
)

# --- entry point ---------------------------------------------------------------------------


def parse_report(data: bytes, filename: str = "") -> ParsedReport:
    if not data.strip():
        raise CounterError([Problem(_("The file is empty."))])
    if data[:4] == b"PK\x03\x04":
        from lifeline.analytics.counter.fast import fast_rows

        rows, sheet_notes = _xlsx_rows(data)
        # The column checks first, as for TSV; the row-by-row reader words any problem.
        report = fast_rows(rows, "xlsx") or parse_tabular(rows, "xlsx")
        report.warnings[:0] = sheet_notes
        return report
    text = decode(data)
    stripped = text.lstrip()
    if stripped[:1] in "{[" or stripped[:2] in ('"{', '"['):
        return parse_json(stripped)
    if stripped[:1] == "<":
        raise CounterError(
            [
                Problem(
                    _(
                        "The file is HTML or XML, not a COUNTER report (perhaps a login or error "
                        "page)."
                    )
                )
            ]
        )
    first_line = stripped.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line or filename.lower().endswith(".tsv") else ","
    file_format = "tsv" if delimiter == "\t" else "csv"
    # Imported here: the fast reader builds on this module.
    from lifeline.analytics.counter.fast import fast_tabular

    # A checked report from the column-wise reader, or None: then the row-by-row reader, which
    # words every problem with its line and column.
    parsed = fast_tabular(text, delimiter, file_format)
    if parsed is not None:
        return parsed
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return parse_tabular(rows, file_format)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 as Excel's "Unicode text" writes it, else GB18030."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise CounterError([Problem(_("The file is neither UTF-8 nor GB18030 text."))]) from exc


def _xlsx_rows(data: bytes) -> tuple[list[list[Any]], list[notes.Note]]:
    """The rows of the sheet holding the report, and a warning naming the other sheets.

    Read with calamine (python-calamine, Rust): openpyxl spent ~97 % of an XLSX import reading
    the sheet's XML, 20× the whole TSV import of the same report (docs/benchmarks.md). Cells
    come as str, float/int, bool, date/datetime or "" for a blank, which the readers take as
    they took openpyxl's. The zip members are checked (core.uploads.check_zip) before this."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            (n, wb.get_sheet_by_name(n).to_python(skip_empty_area=False)) for n in wb.sheet_names
        ]
    except Exception as exc:  # calamine raises its own kinds for a damaged workbook
        raise CounterError(
            [Problem(_("The spreadsheet cannot be opened: %(error)s") % {"error": exc})]
        ) from exc
    if not sheets:
        raise CounterError(
            [Problem(_("The spreadsheet cannot be opened: %(error)s") % {"error": "no sheet"})]
        )
    chosen: list[list[Any]] | None = None
    name, others = "", []
    for title, rows in sheets:
        if chosen is None and _heading_row(rows) is not None:
            chosen, name = rows, title
        elif any(str(c).strip() for row in rows for c in row):
            others.append(title)
    if chosen is None:  # no sheet holds a report: the first one, for the messages
        return sheets[0][1], []
    warnings = [notes.note("other_sheets", sheets=", ".join(others), sheet=name)] if others else []
    return chosen, warnings


# The column headings of Release 5 reports, found whatever their case and spacing
# ("METRIC TYPE", "data type", "Reporting_ Period_Total" all occur in real files).
KNOWN_HEADINGS = {
    re.sub(r"[\s_]+", "", name).lower(): name
    for name in (
        "Platform", "Database", "Title", "Item", "Publisher", "Publisher_ID", "DOI",
        "Proprietary_ID", "ISBN", "Print_ISSN", "Online_ISSN", "Linking_ISSN", "URI",
        "Metric_Type", "Reporting_Period_Total", "Institution_Name", "Customer_ID",
        *ATTRIBUTES,
    )
}  # fmt: skip
FIRST_HEADINGS = {"Platform", "Database", "Title", "Item"}
CONSORTIUM_HEADINGS = {"Institution_Name", "Customer_ID"}


def heading(value: Any) -> str:
    text = str(value).strip().lstrip("\ufeff").strip()
    return KNOWN_HEADINGS.get(re.sub(r"[\s_]+", "", text).lower(), text)


def _heading_row(rows: list[list[Any]]) -> int | None:
    """The index of the column heading row (Platform, Database, Title or Item first, or a
    consortium report's Institution_Name / Customer_ID, with a Metric_Type column) among the
    first 60 rows, or None."""
    for i, row in enumerate(rows[:60]):
        if not row or heading(row[0]) not in FIRST_HEADINGS | CONSORTIUM_HEADINGS:
            continue
        if "Metric_Type" in {heading(c) for c in row}:
            return i
    return None


# --- tabular (TSV, CSV, XLSX) ----------------------------------------------------------------


def _cell(row: list[Any], index: int) -> str:
    return str(row[index]).strip() if index < len(row) and row[index] is not None else ""


@dataclass
class TabularLayout:
    """What the header and the column headings of a tabular report say, checked."""

    spec: ReportSpec
    parsed: ParsedReport  # the report without rows yet
    header_at: int  # index of the column heading row
    columns: list[str]
    index: dict[str, int]
    month_cols: list[tuple[int, dt.date]]
    # Report_Filters say Access_Method=TDM: every row is text and data mining.
    all_tdm: bool = False


def tsv_filters(text: str) -> dict[str, str]:
    """Report_Filters of a tabular header ("Data_Type=Journal; Access_Method=Regular") by
    lower-case name."""
    return {
        k.strip().lower(): v.strip()
        for k, v in (p.split("=", 1) for p in text.split(";") if "=" in p)
    }


def tabular_layout(rows: list[list[Any]], file_format: str) -> TabularLayout:
    """Check the header rows and the column headings (raises `CounterError`); `rows` need only
    reach the column heading row."""
    problems = _Collector()
    header_at = _heading_row(rows)
    if header_at is None:
        raise CounterError(
            [
                Problem(
                    _(
                        "No column heading row found (a row starting Platform, Database, Title or "
                        "Item with a Metric_Type column)."
                    )
                )
            ]
        )
    if header_at == 0:
        raise CounterError(
            [
                Problem(
                    _(
                        "The file starts with the column headings: the header rows (Report_ID, "
                        "Release, Reporting_Period ...) are missing, so which report and months "
                        "it holds cannot be known. Export the report again with its header."
                    )
                )
            ]
        )
    header: dict[str, Any] = {}
    for row in rows[:header_at]:
        key = _cell(row, 0).lstrip("\ufeff")
        if key:
            header[key] = row[1] if len(row) > 1 else ""
    for name in TSV_REQUIRED_FIELDS:
        if name not in header:
            problems.add(_("The header has no %(field)s row.") % {"field": name}, None, name)
    problems.raise_if_any()
    spec, release = _spec_for(
        str(header["Report_ID"]), str(header["Release"]), problems, "Report_ID"
    )
    period = _reporting_period(str(header["Reporting_Period"]), problems)
    problems.raise_if_any()
    assert spec is not None and period is not None
    begin, maybe_end = period
    warnings: list[notes.Note] = []

    columns = [heading(c) for c in rows[header_at]]
    while columns and columns[-1] == "":
        columns.pop()
    line_of_header = header_at + 1
    index = {name: i for i, name in enumerate(columns)}
    if columns[0] in CONSORTIUM_HEADINGS:
        raise CounterError(
            [
                Problem(
                    _(
                        "The report has a column %(col)s: it holds the usage of several "
                        "institutions (a consortium report). Import each member's own report."
                    )
                    % {"col": columns[0]},
                    line_of_header,
                    columns[0],
                )
            ]
        )
    if columns[0] != spec.name_column:
        problems.add(
            _(
                "%(id)s starts with the column %(expected)s, the file with %(found)s (is the "
                "Report_ID right?)."
            )
            % {"id": spec.code, "expected": spec.name_column, "found": columns[0]},
            line_of_header,
            columns[0],
        )
    for required in ("Platform", "Metric_Type", "Reporting_Period_Total"):
        if required not in index:
            problems.add(
                _("The column %(col)s is missing.") % {"col": required}, line_of_header, required
            )
    extra = _check_attributes(
        spec, {c for c in columns if c in ATTRIBUTES}, problems, line_of_header, lenient=True
    )
    if extra:
        warnings.append(
            notes.note("extra_columns", report=spec.code, columns=", ".join(sorted(extra)))
        )
    problems.raise_if_any()

    total_at = index["Reporting_Period_Total"]
    month_cols: list[tuple[int, dt.date]] = []
    for i in range(total_at + 1, len(columns)):
        raw = rows[header_at][i]
        month = parse_month(raw)
        if month is None:
            problems.add(
                _("“%(value)s” is not a month.") % {"value": raw},
                line_of_header,
                columns[i] or str(i + 1),
            )
        else:
            month_cols.append((i, month))
    if maybe_end is None:
        # Begin_Date without End_Date: the month columns say where the period ends.
        last = max((m for _i, m in month_cols), default=begin.replace(day=1))
        end = last.replace(day=calendar.monthrange(last.year, last.month)[1])
        warnings.append(notes.note("end_inferred", end=end.isoformat()))
    else:
        end = maybe_end
    expected = month_range(begin, end)
    found = [m for _i, m in month_cols]
    if len(set(found)) != len(found):
        problems.add(_("A month appears twice in the column headings."), line_of_header)
    if month_cols:
        missing = [m for m in expected if m not in found]
        outside = [m for m in found if m not in expected]
        if missing:
            problems.add(
                _("Months of the reporting period have no column: %(months)s.")
                % {"months": ", ".join(f"{m:%Y-%m}" for m in missing)},
                line_of_header,
            )
        if outside:
            problems.add(
                _(
                    "Columns for months outside the reporting period %(begin)s – %(end)s: "
                    "%(months)s."
                )
                % {"begin": begin, "end": end, "months": ", ".join(f"{m:%Y-%m}" for m in outside)},
                line_of_header,
            )
    problems.raise_if_any()

    parsed = ParsedReport(
        report_id=spec.code,
        release=release,
        report_name=str(header.get("Report_Name", "")),
        institution_name=str(header.get("Institution_Name", "")),
        customer_id=_customer_id(header),
        created_by=str(header.get("Created_By", "")),
        begin=begin,
        end=end,
        file_format=file_format,
        exceptions=_tsv_exceptions(str(header.get("Exceptions", ""))),
        monthly_details=bool(month_cols),
        warnings=warnings,
    )
    all_tdm = tdm_only(tsv_filters(str(header.get("Report_Filters", ""))))
    return TabularLayout(spec, parsed, header_at, columns, index, month_cols, all_tdm)


def parse_tabular(rows: list[list[Any]], file_format: str) -> ParsedReport:
    """The row-by-row reader: every cell checked, each problem worded with its line and column."""
    layout = tabular_layout(rows, file_format)
    problems = _Collector()
    spec, parsed, header_at, columns = layout.spec, layout.parsed, layout.header_at, layout.columns
    index, month_cols, begin = layout.index, layout.month_cols, layout.parsed.begin
    total_at = index["Reporting_Period_Total"]
    metric_at, platform_at = index["Metric_Type"], index["Platform"]
    database_at = index.get("Database")
    title_at = 0 if spec.family in {"TR", "IR"} else None
    id_at = [index.get(c) for c in ID_COLUMNS]
    access_at = index.get("Access_Method")
    append = parsed.rows.append
    sorter = MetricSorter(spec)
    # identity → (first line, every cell of it): see the rule on repeated rows below.
    seen: dict[tuple[str, ...], tuple[int, tuple[str, ...]]] = {}
    summed: list[str] = []
    duplicates: list[int] = []
    empty_totals: list[int] = []
    for offset, row in enumerate(rows[header_at + 1 :]):
        line = header_at + 2 + offset
        if not any(str(c).strip() for c in row):
            continue
        metric = _cell(row, metric_at)
        if metric not in spec.metrics and " " in metric:
            metric = metric.replace(" ", "")  # "Total_Item_ Investigations" (COUNTER's examples)
        if not sorter.accept(metric, line, _cell(row, total_at), problems):
            continue
        if len(row) < len(columns):
            problems.add(
                _("The row has %(found)s cells, the headings %(expected)s.")
                % {"found": len(row), "expected": len(columns)},
                line,
            )
            continue
        platform = _cell(row, platform_at)
        if not platform:
            problems.add(_("The platform is empty."), line, "Platform")
            continue
        # Repeated rows (every cell before the counts alike: title, identifiers, attributes,
        # metric). The Code of Practice gives one row per item, attribute values and metric,
        # and a report that leaves an attribute or identifier column out totals over it: so a
        # repeat with other counts is another part of that total and is added, while a line
        # repeated cell for cell is the same line sent twice and is counted once. Both are
        # listed in the warnings.
        identity = tuple(_cell(row, i) for i in range(total_at))
        cells = tuple(_cell(row, i) for i in range(len(columns)))
        first = seen.setdefault(identity, (line, cells))
        if first[0] != line:
            if first[1] == cells:
                duplicates.append(line)
                continue
            summed.append(f"{first[0]}+{line}")
        item: ItemKey | None = None
        if title_at is not None:
            ids = [_cell(row, i) if i is not None else "" for i in id_at]
            item = (_cell(row, title_at), ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
        database = _cell(row, database_at) if database_at is not None else ""
        if layout.all_tdm or (access_at is not None and is_tdm(_cell(row, access_at))):
            metric = TDM_PREFIX + metric  # kept apart from Regular use (analytics.choices)
        total_cell = row[total_at]
        if str(total_cell).strip() == "" and month_cols:
            # An empty total (a spreadsheet's blank cell) is not 0: the months say it.
            empty_totals.append(line)
            total = None
        else:
            total = _count(total_cell, problems, line, "Reporting_Period_Total")
        if not month_cols:
            if total:
                append((platform, database, item, metric, begin.replace(day=1), total))
            continue
        subtotal = 0
        for i, month in month_cols:
            cell = row[i]
            # Plain digits are nearly every cell: skip the checks a mangled cell needs.
            n = (
                int(cell)
                if type(cell) is str and cell.isdigit()
                else _count(cell, problems, line, columns[i])
            )
            if n:
                subtotal += n
                append((platform, database, item, metric, month, n))
        if total is not None and total != subtotal:
            problems.add(
                _("Reporting_Period_Total is %(total)s but the months add up to %(sum)s.")
                % {"total": total, "sum": subtotal},
                line,
                "Reporting_Period_Total",
            )
    problems.raise_if_any()
    parsed.warnings.extend(sorter.notes(spec.code))
    if summed:
        parsed.warnings.append(
            notes.note("repeated_summed", rows=len(summed), where=notes.where(summed))
        )
    if duplicates:
        parsed.warnings.append(
            notes.note("duplicate_lines", rows=len(duplicates), where=notes.where(duplicates))
        )
    if empty_totals:
        parsed.warnings.append(
            notes.note("empty_total", rows=len(empty_totals), where=notes.where(empty_totals))
        )
    return parsed


_PERIOD_RANGE = re.compile(r"^\s*(\S+)\s+(?:to|-|–|—|~)\s+(\S+)\s*$", re.IGNORECASE)


def _reporting_period(text: str, problems: _Collector) -> tuple[dt.date, dt.date | None] | None:
    """Begin and end of "Begin_Date=...; End_Date=..." (or "2017-01-01 to 2017-06-30", as
    COUNTER's own R5 examples write it). No End_Date gives None: the months decide."""
    parts = {
        k.strip().lower(): v.strip()
        for k, v in (p.split("=", 1) for p in (s.strip() for s in text.split(";")) if "=" in p)
    }
    begin_text, end_text = parts.get("begin_date", ""), parts.get("end_date", "")
    if not parts and (m := _PERIOD_RANGE.match(text)):
        begin_text, end_text = m.group(1), m.group(2)
    begin, end = parse_day(begin_text), parse_day(end_text)
    if begin is not None and end is None and not end_text:
        return begin, None
    if begin is None or end is None:
        problems.add(
            _(
                "Reporting_Period must read “Begin_Date=yyyy-mm-dd; End_Date=yyyy-mm-dd”, not "
                "“%(value)s”."
            )
            % {"value": text},
            None,
            "Reporting_Period",
        )
        return None
    if end < begin:
        problems.add(_("The reporting period ends before it begins."), None, "Reporting_Period")
        return None
    return begin, end


def _customer_id(header: dict[str, Any]) -> str:
    return str(header.get("Customer_ID", "")).strip()


def _tsv_exceptions(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in (p.strip() for p in text.split(";")):
        if part:
            code, _sep, message = part.partition(":")
            out.append(
                {
                    "Code": int(code) if code.strip().isdigit() else code.strip(),
                    "Message": message.strip(),
                }
            )
    return out


# --- JSON ---------------------------------------------------------------------------------


def parse_json(text: str) -> ParsedReport:
    """A JSON report in any of the shapes vendors send (see `counter.shapes`)."""
    from lifeline.analytics.counter.jsonreport import parse_json as parse

    return parse(text)
