"""Read a COUNTER R5.0 / R5.1 report (JSON, TSV, CSV or XLSX) into checked usage rows.

Everything is checked before anything is stored: `parse_report` either returns a complete
`ParsedReport` or raises `CounterError` listing each problem with the field, the line (or
JSON path) and the column, so that a librarian can fix the file, and nothing is half-imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.utils.translation import gettext as _

from lifeline.analytics.counter.dates import month_range, parse_day, parse_month
from lifeline.analytics.counter.spec import ATTRIBUTES, SPECS, ReportSpec, normalise_release

MAX_PROBLEMS = 50
ID_COLUMNS = ("DOI", "Proprietary_ID", "ISBN", "Print_ISSN", "Online_ISSN", "URI")
# JSON Item_ID types (R5.0 list form and R5.1 dict form) → our identifier slots.
ID_TYPES = {
    "DOI": 0,
    "Proprietary": 1,
    "Proprietary_ID": 1,
    "ISBN": 2,
    "Print_ISSN": 3,
    "Online_ISSN": 4,
    "URI": 5,
}
TSV_HEADER_FIELDS = (
    "Report_Name",
    "Report_ID",
    "Release",
    "Institution_Name",
    "Metric_Types",
    "Report_Filters",
    "Report_Attributes",
    "Exceptions",
    "Reporting_Period",
    "Created",
    "Created_By",
)
JSON_HEADER_FIELDS = (
    "Report_Name",
    "Report_ID",
    "Release",
    "Institution_Name",
    "Created",
    "Created_By",
    "Report_Filters",
)

# (platform, database, (title, doi, proprietary, isbn, print_issn, online_issn, uri),
#  metric, month, count)
ItemKey = tuple[str, str, str, str, str, str, str]
UsageRow = tuple[str, str, ItemKey | None, str, dt.date, int]


@dataclass
class Problem:
    message: str
    line: int | str | None = None  # a line number of a tabular file, or a JSON path
    column: str = ""

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(
                _("line %(line)s") % {"line": self.line}
                if isinstance(self.line, int)
                else str(self.line)
            )
        if self.column:
            where.append(_("column “%(column)s”") % {"column": self.column})
        return f"{', '.join(where)}: {self.message}" if where else self.message


class CounterError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


# The column form of the usage rows (what the fast tabular reader builds and the importer
# stores): the item columns are null for platform and database reports.
ITEM_COLUMNS = ("title", "doi", "proprietary_id", "isbn", "print_issn", "online_issn", "uri")
FRAME_SCHEMA: dict[str, Any] = {
    "platform": pl.String,
    "database": pl.String,
    **dict.fromkeys(ITEM_COLUMNS, pl.String),
    "metric": pl.String,
    "month": pl.Date,
    "count": pl.Int64,
}


@dataclass
class ParsedReport:
    report_id: str
    release: str
    report_name: str
    institution_name: str
    customer_id: str
    created_by: str
    begin: dt.date
    end: dt.date
    file_format: str
    rows: list[UsageRow] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    monthly_details: bool = True
    # Set instead of `rows` by the fast tabular reader (FRAME_SCHEMA columns).
    frame: pl.DataFrame | None = None

    @property
    def months(self) -> list[dt.date]:
        return month_range(self.begin, self.end)

    def usage_frame(self) -> pl.DataFrame:
        """The usage rows as columns, whichever reader produced them."""
        if self.frame is not None:
            return self.frame
        items = [r[2] or (None,) * len(ITEM_COLUMNS) for r in self.rows]
        data: dict[str, list[Any]] = {
            "platform": [r[0] for r in self.rows],
            "database": [r[1] for r in self.rows],
        }
        for i, name in enumerate(ITEM_COLUMNS):
            data[name] = [item[i] for item in items]
        data["metric"] = [r[3] for r in self.rows]
        data["month"] = [r[4] for r in self.rows]
        data["count"] = [r[5] for r in self.rows]
        return pl.DataFrame(data, schema=FRAME_SCHEMA)

    def usage_rows(self) -> list[UsageRow]:
        """The usage rows as tuples, whichever reader produced them (for comparisons)."""
        if self.frame is None:
            return list(self.rows)
        out: list[UsageRow] = []
        for row in self.frame.iter_rows():
            item = None if row[2] is None else tuple(row[2:9])
            out.append((row[0], row[1], item, row[9], row[10], row[11]))
        return out

    def totals(self) -> dict[str, int]:
        """Sum per metric type: what the importer must store and the tests compare with the file."""
        if self.frame is not None:
            sums = self.frame.group_by("metric", maintain_order=True).agg(pl.col("count").sum())
            return {m: int(n) for m, n in sums.iter_rows()}
        out: dict[str, int] = {}
        for row in self.rows:
            out[row[3]] = out.get(row[3], 0) + row[5]
        return out

    @property
    def platforms(self) -> set[str]:
        if self.frame is not None:
            return set(self.frame["platform"].unique().to_list())
        return {row[0] for row in self.rows}


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, message: str, line: int | str | None = None, column: str = "") -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(message, line, column))

    def raise_if_any(self) -> None:
        if self.problems:
            raise CounterError(self.problems)


# --- entry point ---------------------------------------------------------------------------


def parse_report(data: bytes, filename: str = "") -> ParsedReport:
    if not data.strip():
        raise CounterError([Problem(_("The file is empty."))])
    if data[:4] == b"PK\x03\x04":
        return parse_tabular(_xlsx_rows(data), "xlsx")
    text = decode(data)
    stripped = text.lstrip()
    if stripped[:1] in "{[":
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


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged zip
        raise CounterError(
            [Problem(_("The spreadsheet cannot be opened: %(error)s") % {"error": exc})]
        ) from exc
    ws = wb.worksheets[0]
    rows = [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
    wb.close()
    return rows


# --- counts ------------------------------------------------------------------------------


def _count(value: Any, problems: _Collector, line: int | str, column: str) -> int | None:
    if isinstance(value, bool):
        problems.add(_("“%(value)s” is not a count.") % {"value": value}, line, column)
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip().replace(",", "")
        if text == "":
            return 0
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                as_float = None
            if as_float is None or not as_float.is_integer():
                problems.add(
                    _("“%(value)s” is not a whole number.") % {"value": value}, line, column
                )
                return None
            number = int(as_float)
    if number < 0:
        problems.add(_("The count %(value)s is negative.") % {"value": number}, line, column)
        return None
    return number


def _spec_for(
    report_id: str, release_raw: str, problems: _Collector, where: str
) -> tuple[ReportSpec | None, str]:
    release = normalise_release(str(release_raw))
    if release is None:
        problems.add(
            _("Release “%(release)s” is not 5, 5.0 or 5.1.") % {"release": release_raw},
            where,
            "Release",
        )
        return None, ""
    spec = SPECS[release].get(str(report_id).strip().upper())
    if spec is None:
        problems.add(
            _(
                "Report_ID “%(id)s” is not a COUNTER report or standard view (PR, DR, TR, IR and "
                "their views)."
            )
            % {"id": report_id},
            where,
            "Report_ID",
        )
    return spec, release


def _check_attributes(
    spec: ReportSpec, present: set[str], problems: _Collector, where: str | int
) -> None:
    if spec.attributes is not None:
        missing, extra = spec.attributes - present, present - spec.attributes
    else:
        missing, extra = frozenset(), present - spec.allowed
    if missing:
        problems.add(
            _(
                "%(id)s must have the column(s) %(cols)s; the file does not (is the Report_ID "
                "right?)."
            )
            % {"id": spec.code, "cols": ", ".join(sorted(missing))},
            where,
        )
    if extra:
        problems.add(
            _(
                "%(id)s may not have the column(s) %(cols)s; the file has them (is the Report_ID "
                "right?)."
            )
            % {"id": spec.code, "cols": ", ".join(sorted(extra))},
            where,
        )


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


def tabular_layout(rows: list[list[Any]], file_format: str) -> TabularLayout:
    """Check the header rows and the column headings (raises `CounterError`); `rows` need only
    reach the column heading row."""
    problems = _Collector()
    header_at = next(
        (
            i
            for i, row in enumerate(rows[:60])
            if _cell(row, 0).lstrip("\ufeff") in {"Platform", "Database", "Title", "Item"}
            and "Metric_Type" in [str(c).strip() for c in row]
        ),
        None,
    )
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
    header: dict[str, Any] = {}
    for row in rows[:header_at]:
        key = _cell(row, 0).lstrip("\ufeff")
        if key:
            header[key] = row[1] if len(row) > 1 else ""
    for name in TSV_HEADER_FIELDS:
        if name not in header:
            problems.add(_("The header has no %(field)s row.") % {"field": name}, None, name)
    problems.raise_if_any()
    spec, release = _spec_for(
        str(header["Report_ID"]), str(header["Release"]), problems, "Report_ID"
    )
    period = _reporting_period(str(header["Reporting_Period"]), problems)
    problems.raise_if_any()
    assert spec is not None and period is not None
    begin, end = period

    columns = [str(c).strip() for c in rows[header_at]]
    while columns and columns[-1] == "":
        columns.pop()
    line_of_header = header_at + 1
    index = {name: i for i, name in enumerate(columns)}
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
    _check_attributes(spec, {c for c in columns if c in ATTRIBUTES}, problems, line_of_header)
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
    )
    return TabularLayout(spec, parsed, header_at, columns, index, month_cols)


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
    append = parsed.rows.append
    seen: dict[tuple[str, ...], int] = {}
    for offset, row in enumerate(rows[header_at + 1 :]):
        line = header_at + 2 + offset
        if not any(str(c).strip() for c in row):
            continue
        metric = _cell(row, metric_at)
        if metric not in spec.metrics:
            problems.add(
                _("%(metric)s is not a metric type of %(id)s (allowed: %(allowed)s).")
                % {
                    "metric": metric or "∅",
                    "id": spec.code,
                    "allowed": ", ".join(sorted(spec.metrics)),
                },
                line,
                "Metric_Type",
            )
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
        # Every cell before the counts (title, identifiers, attributes, metric) alike: the same
        # usage twice, which would be counted twice.
        identity = tuple(_cell(row, i) for i in range(total_at))
        first = seen.setdefault(identity, line)
        if first != line:
            problems.add(
                _("The row repeats line %(first)s (the same item, attributes and metric type).")
                % {"first": first},
                line,
            )
            continue
        item: ItemKey | None = None
        if title_at is not None:
            ids = [_cell(row, i) if i is not None else "" for i in id_at]
            item = (_cell(row, title_at), ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
        database = _cell(row, database_at) if database_at is not None else ""
        total = _count(row[total_at], problems, line, "Reporting_Period_Total")
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
    return parsed


def _reporting_period(text: str, problems: _Collector) -> tuple[dt.date, dt.date] | None:
    parts = dict(p.split("=", 1) for p in (s.strip() for s in text.split(";")) if "=" in p)
    begin, end = (
        parse_day(parts.get("Begin_Date", "").strip()),
        parse_day(parts.get("End_Date", "").strip()),
    )
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


# --- JSON -------------------------------------------------------------------------------


def parse_json(text: str) -> ParsedReport:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - 1
        message = (
            _("The JSON ends too early (the file is cut short): %(error)s")
            if cut
            else _("The JSON is malformed: %(error)s")
        ) % {"error": exc.msg}
        raise CounterError([Problem(message, exc.lineno, str(exc.colno))]) from exc
    if isinstance(doc, list) or (
        isinstance(doc, dict)
        and "Report_Header" not in doc
        and ("Code" in doc or "Exception" in doc)
    ):
        first = doc[0] if isinstance(doc, list) and doc else doc
        code = first.get("Code", "?") if isinstance(first, dict) else "?"
        message = first.get("Message", "") if isinstance(first, dict) else ""
        raise CounterError(
            [
                Problem(
                    _("This is a SUSHI exception (%(code)s %(message)s), not a report.")
                    % {"code": code, "message": message}
                )
            ]
        )
    if not isinstance(doc, dict) or not isinstance(doc.get("Report_Header"), dict):
        raise CounterError([Problem(_("The JSON has no Report_Header object."), "Report_Header")])
    problems = _Collector()
    head = doc["Report_Header"]
    for name in JSON_HEADER_FIELDS:
        if name not in head:
            problems.add(_("The header has no %(field)s.") % {"field": name}, "Report_Header", name)
    problems.raise_if_any()
    spec, release = _spec_for(
        str(head["Report_ID"]), str(head["Release"]), problems, "Report_Header"
    )
    filters = _json_filters(head.get("Report_Filters"))
    begin, end = parse_day(filters.get("Begin_Date")), parse_day(filters.get("End_Date"))
    if begin is None or end is None:
        problems.add(
            _("Report_Filters must give Begin_Date and End_Date."), "Report_Header.Report_Filters"
        )
    items = doc.get("Report_Items", [])
    if not isinstance(items, list):
        problems.add(_("Report_Items must be a list."), "Report_Items")
    problems.raise_if_any()
    assert spec is not None and begin is not None and end is not None
    parsed = ParsedReport(
        report_id=spec.code,
        release=release,
        report_name=str(head.get("Report_Name", "")),
        institution_name=str(head.get("Institution_Name", "")),
        customer_id=str(head.get("Customer_ID", "")),
        created_by=str(head.get("Created_By", "")),
        begin=begin,
        end=end,
        file_format="json",
        exceptions=[e for e in head.get("Exceptions", []) or [] if isinstance(e, dict)],
    )
    months = set(parsed.months)
    reader = (
        _Json51(spec, parsed, months, problems)
        if release == "5.1"
        else _Json50(spec, parsed, months, problems)
    )
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.add(_("A report item must be an object."), f"Report_Items[{i}]")
            continue
        reader.item(item, f"Report_Items[{i}]")
    problems.raise_if_any()
    return parsed


def _json_filters(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):  # R5.0: [{"Name": ..., "Value": ...}]
        return {str(f.get("Name")): f.get("Value") for f in raw if isinstance(f, dict)}
    return {}


def _json_ids(raw: Any) -> list[str]:
    ids = [""] * 6
    if isinstance(raw, list):
        pairs = [(e.get("Type"), e.get("Value")) for e in raw if isinstance(e, dict)]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        pairs = []
    for kind, value in pairs:
        slot = ID_TYPES.get(str(kind))
        if slot is not None and value:
            ids[slot] = str(value) if not isinstance(value, list) else str(value[0])
    return ids


class _JsonReader(ABC):
    def __init__(
        self, spec: ReportSpec, parsed: ParsedReport, months: set[dt.date], problems: _Collector
    ) -> None:
        self.spec, self.parsed, self.months, self.problems = spec, parsed, months, problems

    def key(self, item: dict[str, Any], title_field: str) -> ItemKey | None:
        if self.spec.family not in {"TR", "IR"}:
            return None
        ids = _json_ids(item.get("Item_ID"))
        return (str(item.get(title_field, "")), ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])

    def emit(
        self,
        platform: str,
        database: str,
        key: ItemKey | None,
        metric: str,
        month: dt.date | None,
        count: Any,
        where: str,
    ) -> None:
        if metric not in self.spec.metrics:
            self.problems.add(
                _("%(metric)s is not a metric type of %(id)s (allowed: %(allowed)s).")
                % {
                    "metric": metric,
                    "id": self.spec.code,
                    "allowed": ", ".join(sorted(self.spec.metrics)),
                },
                where,
                "Metric_Type",
            )
            return
        if month is None or month not in self.months:
            self.problems.add(_("The month is missing or outside the reporting period."), where)
            return
        n = _count(count, self.problems, where, metric)
        if n:
            self.parsed.rows.append((platform, database, key, metric, month, n))

    def platform(self, item: dict[str, Any], where: str) -> str:
        platform = str(item.get("Platform", "")).strip()
        if not platform:
            self.problems.add(_("The platform is empty."), where, "Platform")
        return platform

    @abstractmethod
    def item(self, item: dict[str, Any], where: str) -> None:
        """Read one Report_Items entry: the layout differs between Release 5.0 and 5.1."""


class _Json50(_JsonReader):
    def item(self, item: dict[str, Any], where: str) -> None:
        _check_attributes(self.spec, {k for k in item if k in ATTRIBUTES}, self.problems, where)
        platform = self.platform(item, where)
        key = self.key(item, "Title" if self.spec.family == "TR" else "Item")
        database = str(item.get("Database", "")) if self.spec.family == "DR" else ""
        for p, perf in enumerate(item.get("Performance") or []):
            here = f"{where}.Performance[{p}]"
            period = perf.get("Period") or {} if isinstance(perf, dict) else {}
            begin = parse_day(period.get("Begin_Date"))
            month = begin.replace(day=1) if begin else None
            for n, inst in enumerate(perf.get("Instance") or [] if isinstance(perf, dict) else []):
                if isinstance(inst, dict):
                    self.emit(
                        platform,
                        database,
                        key,
                        str(inst.get("Metric_Type", "")),
                        month,
                        inst.get("Count"),
                        f"{here}.Instance[{n}]",
                    )


class _Json51(_JsonReader):
    def item(self, item: dict[str, Any], where: str) -> None:
        if self.spec.family == "IR" and "Items" in item:
            for n, sub in enumerate(item.get("Items") or []):
                if isinstance(sub, dict):
                    self.leaf(sub, f"{where}.Items[{n}]")
            return
        self.leaf(item, where)

    def leaf(self, item: dict[str, Any], where: str) -> None:
        platform = self.platform(item, where)
        key = self.key(item, "Title" if self.spec.family == "TR" else "Item")
        database = str(item.get("Database", "")) if self.spec.family == "DR" else ""
        for a, block in enumerate(item.get("Attribute_Performance") or []):
            here = f"{where}.Attribute_Performance[{a}]"
            if not isinstance(block, dict):
                continue
            _check_attributes(self.spec, {k for k in block if k in ATTRIBUTES}, self.problems, here)
            for metric, by_month in (block.get("Performance") or {}).items():
                if not isinstance(by_month, dict):
                    self.problems.add(_("Counts must be given per month."), here, metric)
                    continue
                for month_text, count in by_month.items():
                    self.emit(
                        platform,
                        database,
                        key,
                        metric,
                        parse_day(month_text),
                        count,
                        f"{here}.Performance.{metric}.{month_text}",
                    )
