"""Read a COUNTER R5.0 / R5.1 JSON report (a SUSHI answer or a saved file) into usage rows.

The document is first brought to one shape (`counter.shapes.normalise`): wrapped bodies, header
fields at the top level, a single `Exception` object and lower-case keys are all read. Every
exception the vendor sent is kept on the report. What can be read without guessing is read;
rows that are not COUNTER usage are skipped and listed in the report's warnings.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from abc import ABC, abstractmethod
from typing import Any

from django.utils.translation import gettext as _

from lifeline.analytics.counter import notes, shapes
from lifeline.analytics.counter.dates import parse_day
from lifeline.analytics.counter.jsonfast import fast_items
from lifeline.analytics.counter.parse import (
    ATTRIBUTES,
    ID_TYPES,
    TDM_PREFIX,
    CounterError,
    ItemKey,
    MetricSorter,
    ParsedReport,
    Problem,
    _check_attributes,
    _Collector,
    _count,
    _spec_for,
    is_tdm,
    tdm_only,
)
from lifeline.analytics.counter.spec import ReportSpec


def _exception_text(exceptions: list[dict[str, Any]]) -> str:
    return "; ".join(
        " ".join(str(e.get(k, "")) for k in ("Code", "Message", "Data") if e.get(k)).strip()
        for e in exceptions
    )


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
    report, exceptions = shapes.normalise(doc)
    head = report["Report_Header"] if report is not None else None
    if (
        head is not None
        and exceptions
        and not (report or {}).get("Report_Items")
        and parse_day(_json_filters(head.get("Report_Filters")).get("begin_date")) is None
    ):
        head = None  # only a header around the exceptions: no report to read
    if head is None or (exceptions and not report_like(head)):
        if exceptions:
            raise CounterError(
                [
                    Problem(
                        _("This is a SUSHI exception (%(exceptions)s), not a report.")
                        % {"exceptions": _exception_text(exceptions)}
                    )
                ],
                exceptions=exceptions,
            )
        raise CounterError(
            [
                Problem(
                    _(
                        "The JSON has no Report_Header (or an empty one): which report, release "
                        "and months it holds cannot be known."
                    ),
                    "Report_Header",
                )
            ]
        )
    assert report is not None
    problems = _Collector()
    for name in ("Report_ID", "Release"):
        if name not in head:
            problems.add(_("The header has no %(field)s.") % {"field": name}, "Report_Header", name)
    problems.raise_if_any()
    spec, release = _spec_for(
        str(head["Report_ID"]), str(head["Release"]), problems, "Report_Header"
    )
    filters = _json_filters(head.get("Report_Filters"))
    begin = parse_day(filters.get("begin_date"))
    end = _end_day(filters.get("end_date"))
    if begin is None:
        problems.add(_("Report_Filters must give Begin_Date."), "Report_Header.Report_Filters")
    items = report.get("Report_Items")
    if items is None:
        items = []
    if not isinstance(items, list):
        problems.add(_("Report_Items must be a list."), "Report_Items")
    problems.raise_if_any()
    assert spec is not None and begin is not None
    parsed = ParsedReport(
        report_id=spec.code,
        release=release,
        report_name=str(head.get("Report_Name", "")),
        institution_name=str(head.get("Institution_Name", "")),
        customer_id=str(head.get("Customer_ID", "")),
        created_by=str(head.get("Created_By", "")),
        begin=begin,
        end=end or begin,
        file_format="json",
        exceptions=exceptions,
    )
    sorter = MetricSorter(spec)
    all_tdm = tdm_only(filters)
    # The column reader first (as for TSV); None sends the report to the careful reader below.
    fast = fast_items(spec, release, items, begin, end, all_tdm=all_tdm)
    extra: set[str] = set()
    if fast is not None:
        parsed.frame, extra = fast
    else:
        # Without End_Date (COUNTER's own R5.0 API example) any month from Begin_Date on is read.
        reader = (
            _Json51(spec, parsed, begin, end, problems, sorter, all_tdm)
            if release == "5.1"
            else _Json50(spec, parsed, begin, end, problems, sorter, all_tdm)
        )
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.add(_("A report item must be an object."), f"Report_Items[{i}]")
                continue
            reader.item(item, f"Report_Items[{i}]")
        problems.raise_if_any()
        extra = reader.extra
    if end is None:
        if parsed.frame is not None:
            latest = parsed.frame["month"].max()
            last = latest if isinstance(latest, dt.date) else begin
        else:
            last = max((r[4] for r in parsed.rows), default=begin)
        parsed.end = last.replace(day=calendar.monthrange(last.year, last.month)[1])
        parsed.warnings.append(notes.note("end_inferred", end=parsed.end.isoformat()))
    if extra:
        parsed.warnings.append(
            notes.note("extra_columns", report=spec.code, columns=", ".join(sorted(extra)))
        )
    parsed.warnings.extend(sorter.notes(spec.code))
    codes = {e.get("Code") for e in exceptions}
    if not items and release == "5.1" and 3030 not in codes and not exceptions:
        parsed.warnings.append(notes.note("empty_without_3030"))
    return parsed


def report_like(head: dict[str, Any]) -> bool:
    """A header that names a report and a release: something to read, exceptions or not."""
    return bool(head.get("Report_ID")) and bool(head.get("Release"))


def _end_day(value: Any) -> dt.date | None:
    """End_Date as a day; "2019-12" (a month, as SUSHI requests write it) is its last day."""
    day = parse_day(value)
    if day is not None and len(str(value).strip()) == 7:
        day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day


def _json_filters(raw: Any) -> dict[str, Any]:
    """The filters by lower-case name (vendors write Begin_Date, begin_date, BEGIN_DATE)."""
    if isinstance(raw, dict):
        return {str(k).lower(): v for k, v in raw.items()}
    if isinstance(raw, list):  # R5.0: [{"Name": ..., "Value": ...}]
        return {
            str(f.get("Name")).lower(): f.get("Value")
            for f in raw
            if isinstance(f, dict) and f.get("Name") is not None
        }
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
        self,
        spec: ReportSpec,
        parsed: ParsedReport,
        begin: dt.date,
        end: dt.date | None,
        problems: _Collector,
        sorter: MetricSorter,
        all_tdm: bool = False,
    ) -> None:
        self.spec, self.parsed, self.problems, self.sorter = spec, parsed, problems, sorter
        self.all_tdm = all_tdm
        self.first = begin.replace(day=1)
        self.last = end.replace(day=1) if end is not None else None
        self.extra: set[str] = set()

    def attributes(self, present: set[str], where: str) -> None:
        self.extra |= _check_attributes(self.spec, present, self.problems, where, lenient=True)

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
        access: Any = None,
    ) -> None:
        if not self.sorter.accept(metric, where, count, self.problems):
            return
        if self.all_tdm or is_tdm(access):
            metric = TDM_PREFIX + metric  # kept apart from Regular use (analytics.choices)
        if month is None or month < self.first or (self.last is not None and month > self.last):
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
        self.attributes({k for k in item if k in ATTRIBUTES}, where)
        platform = self.platform(item, where)
        key = self.key(item, "Title" if self.spec.family == "TR" else "Item")
        database = str(item.get("Database", "")) if self.spec.family == "DR" else ""
        access = item.get("Access_Method")
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
                        access,
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
            self.attributes({k for k in block if k in ATTRIBUTES}, here)
            for metric, by_month in (block.get("Performance") or {}).items():
                if not isinstance(by_month, dict):
                    self.problems.add(_("Counts must be given per month."), here, metric)
                    continue
                for month_text, count in by_month.items():
                    day = parse_day(month_text)
                    self.emit(
                        platform,
                        database,
                        key,
                        metric,
                        day.replace(day=1) if day else None,
                        count,
                        f"{here}.Performance.{metric}.{month_text}",
                        block.get("Access_Method"),
                    )
