"""What both COUNTER readers share: the problems they report, the parsed report they build, the
count and metric-type rules (`MetricSorter`), and the report specifications' checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.utils.translation import gettext as _

from lifeline.analytics.counter import notes
from lifeline.analytics.counter.dates import month_range
from lifeline.analytics.counter.spec import (
    ALL_METRICS,
    DENIALS,
    SPECS,
    ReportSpec,
    normalise_release,
)

MAX_PROBLEMS = 50
# A count of text and data mining carries its metric type as "TDM:<Metric_Type>" (see
# analytics.choices.TDM_OFFSET): the readers mark it, the importer stores it apart.
TDM_PREFIX = "TDM:"


def is_tdm(value: Any) -> bool:
    """An Access_Method value (a cell, a JSON attribute, a filter) meaning text and data mining."""
    return str(value or "").strip().upper() == "TDM"


def tdm_only(filters: dict[str, Any]) -> bool:
    """Report_Filters that keep only TDM use (Access_Method=TDM): every row is TDM, though the
    report may not show an Access_Method column."""
    value = filters.get("access_method")
    if value is None:
        return False
    parts = value if isinstance(value, list) else str(value).split("|")
    return bool(parts) and all(is_tdm(p) for p in parts)


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
# The header rows a tabular report cannot be read without (the others are kept when present).
TSV_REQUIRED_FIELDS = ("Report_ID", "Release", "Reporting_Period")
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
    def __init__(
        self, problems: list[Problem], exceptions: list[dict[str, Any]] | None = None
    ) -> None:
        self.problems = problems
        # The COUNTER exceptions of an answer that holds no report (shown with the refusal).
        self.exceptions = exceptions or []
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
    # What was skipped, kept apart or read leniently (`counter.notes`).
    warnings: list[notes.Note] = field(default_factory=list)
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

    def _sums(self) -> dict[str, int]:
        if self.frame is not None:
            sums = self.frame.group_by("metric", maintain_order=True).agg(pl.col("count").sum())
            return {m: int(n) for m, n in sums.iter_rows()}
        out: dict[str, int] = {}
        for row in self.rows:
            out[row[3]] = out.get(row[3], 0) + row[5]
        return out

    def totals(self) -> dict[str, int]:
        """Sum per metric type of Regular use (TDM left out): what the importer must store and
        the tests compare with the file."""
        return {m: n for m, n in self._sums().items() if not m.startswith(TDM_PREFIX)}

    def tdm_totals(self) -> dict[str, int]:
        """Sum per metric type of text and data mining (Access_Method=TDM), kept apart."""
        return {
            m.removeprefix(TDM_PREFIX): n
            for m, n in self._sums().items()
            if m.startswith(TDM_PREFIX)
        }

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
    spec: ReportSpec,
    present: set[str],
    problems: _Collector,
    where: str | int,
    *,
    lenient: bool = False,
) -> set[str]:
    """Check the attribute columns; with `lenient`, a standard view's extra columns are
    returned (the caller warns: the counts add up over them, nothing is lost) not refused."""
    missing: set[str]
    extra: set[str]
    if spec.attributes is not None:
        missing, extra = set(spec.attributes - present), set(present - spec.attributes)
    else:
        missing, extra = set(), set(present - spec.allowed)
    tolerated: set[str] = set()
    if lenient and extra:
        tolerated, extra = set(extra), set()
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
    return tolerated


class MetricSorter:
    """Decides per row what a metric type means for the report, by the Code of Practice:
    the report's own metric types are usage; a denial metric (No_License, Limit_Exceeded) in
    a platform report (PR has no denials; some platforms send them anyway) is kept apart (stored
    under its own metric type, never
    added to the usage); an empty or vendor-specific metric type (a summary row, or
    `tandfeBooks:Total_Chapter_Requests`) is skipped and listed; another COUNTER metric type
    the report may not have is a problem (the Report_ID is probably wrong)."""

    def __init__(self, spec: ReportSpec) -> None:
        self.spec = spec
        self.skipped: dict[str, list[Any]] = {}
        self.skipped_total: dict[str, int] = {}
        self.apart: dict[str, int] = {}
        self.apart_rows: dict[str, int] = {}

    def accept(self, metric: str, where: Any, count: Any, problems: _Collector) -> bool:
        if metric in self.spec.metrics:
            return True
        if metric in DENIALS and self.spec.family == "PR":
            self.apart_rows[metric] = self.apart_rows.get(metric, 0) + 1
            self.apart[metric] = self.apart.get(metric, 0) + _quiet_count(count)
            return True
        if metric not in ALL_METRICS:
            self.skipped.setdefault(metric, []).append(where)
            self.skipped_total[metric] = self.skipped_total.get(metric, 0) + _quiet_count(count)
            return False
        problems.add(
            _("%(metric)s is not a metric type of %(id)s (allowed: %(allowed)s).")
            % {
                "metric": metric,
                "id": self.spec.code,
                "allowed": ", ".join(sorted(self.spec.metrics)),
            },
            where,
            "Metric_Type",
        )
        return False

    def notes(self, report: str) -> list[notes.Note]:
        out = [
            notes.note(
                "skipped_metric",
                metric=metric or "∅",
                rows=len(places),
                total=self.skipped_total[metric],
                where=notes.where(places),
            )
            for metric, places in self.skipped.items()
        ]
        out += [
            notes.note(
                "denials_apart",
                metric=metric,
                rows=self.apart_rows[metric],
                total=total,
                report=report,
            )
            for metric, total in self.apart.items()
        ]
        return out


def _quiet_count(value: Any) -> int:
    try:
        return max(int(float(str(value).replace(",", "") or 0)), 0)
    except ValueError:
        return 0
