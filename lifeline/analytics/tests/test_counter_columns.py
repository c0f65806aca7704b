"""JSON and XLSX reports take the column path as TSV does (issue 16, part 4), with the same rows as
the careful readers and as the TSV of the same report; Access_Method TDM is kept apart from use."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from openpyxl import Workbook

from lifeline.analytics.counter import jsonreport
from lifeline.analytics.counter.parse import (
    CounterError,
    ParsedReport,
    UsageRow,
    _xlsx_rows,
    parse_report,
    parse_tabular,
)
from lifeline.analytics.importer import import_file
from lifeline.analytics.services import library_monthly_totals, tdm_between, usage_between
from lifeline.analytics.tests.conftest import COUNTER_DATA
from lifeline.conftest import client_for
from lifeline.registry.models import Resource

TSV = sorted(COUNTER_DATA.glob("r5*/*.tsv"))
JSON = sorted(COUNTER_DATA.glob("r5*/*.json"))
CORPUS_JSON = sorted((Path(__file__).parent / "data" / "counter_corpus").glob("*.json"))
ids = {"ids": lambda p: f"{p.parent.name}/{p.name}"}


def careful_json(data: bytes, name: str) -> ParsedReport:
    with mock.patch.object(jsonreport, "fast_items", lambda *a, **k: None):
        return parse_report(data, name)


def xlsx_of(path: Path) -> bytes:
    """The TSV as a spreadsheet would hold it: counts as numbers, the rest as text."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter="\t"))
    head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for i, row in enumerate(rows):
        ws.append([int(c) if i > head and c.isdigit() else c for c in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ordered(rows: list[UsageRow]) -> list[tuple[Any, ...]]:
    return sorted((r[0], r[1], r[2] or (), r[3], r[4], r[5]) for r in rows)


@pytest.mark.parametrize("path", JSON + CORPUS_JSON, **ids)
def test_json_column_path_gives_the_careful_readers_rows(path: Path) -> None:
    data = path.read_bytes()
    try:
        fast = parse_report(data, path.name)
    except CounterError as refused:
        with pytest.raises(CounterError) as again:
            careful_json(data, path.name)
        assert [str(p) for p in again.value.problems] == [str(p) for p in refused.problems]
        return
    careful = careful_json(data, path.name)
    assert careful.frame is None
    assert fast.usage_rows() == careful.usage_rows()
    assert fast.warnings == careful.warnings and (fast.begin, fast.end) == (
        careful.begin,
        careful.end,
    )
    assert fast.totals() == careful.totals() and fast.tdm_totals() == careful.tdm_totals()
    if path in JSON:
        assert fast.frame is not None, "an official sample takes the column path"


@pytest.mark.parametrize("path", TSV, **ids)
def test_json_and_xlsx_give_the_rows_of_the_tsv_of_the_same_report(path: Path) -> None:
    tsv = parse_report(path.read_bytes(), path.name)
    as_json = parse_report(path.with_suffix(".json").read_bytes(), "report.json")
    data = xlsx_of(path)
    as_xlsx = parse_report(data, "report.xlsx")
    assert as_json.frame is not None and as_xlsx.frame is not None, "both take the column path"
    assert ordered(as_json.usage_rows()) == ordered(tsv.usage_rows())
    assert as_xlsx.usage_rows() == tsv.usage_rows()
    # ... and the row-by-row reader of the same sheet agrees, warnings included.
    careful = parse_tabular(_xlsx_rows(data)[0], "xlsx")
    assert as_xlsx.usage_rows() == careful.usage_rows() and as_xlsx.warnings == careful.warnings
    assert as_json.tdm_totals() == tsv.tdm_totals() == as_xlsx.tdm_totals()


def test_unusual_json_goes_to_the_careful_reader() -> None:
    doc = json.loads((COUNTER_DATA / "r51" / "TRJ1_sample_r51.json").read_text("utf-8-sig"))
    block = doc["Report_Items"][0]["Attribute_Performance"][0]["Performance"]
    metric = next(iter(block))
    month = next(iter(block[metric]))
    block[metric][month] = str(block[metric][month])  # "12": read, but by the careful reader
    parsed = parse_report(json.dumps(doc).encode(), "x.json")
    assert (
        parsed.frame is None
        and parsed.usage_rows() == careful_json(json.dumps(doc).encode(), "x.json").usage_rows()
    )
    block[metric][month] = -3
    with pytest.raises(CounterError) as refused:
        parse_report(json.dumps(doc).encode(), "x.json")
    assert "negative" in str(refused.value) and "Report_Items[0]" in str(refused.value)


def test_xlsx_with_a_problem_is_worded_by_the_row_by_row_reader() -> None:
    path = COUNTER_DATA / "r50" / "Sample-TR_J1.tsv"
    text = path.read_text(encoding="utf-8-sig").replace("\t25\t6\t", "\t25\t-6\t", 1)
    assert "-6" in text
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(CounterError) as refused:
        parse_report(out.getvalue(), "x.xlsx")
    assert "line" in str(refused.value)


# Access_Method: Regular vs TDM ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["DR_sample_r51.tsv", "DR_sample_r51.json", "PR_sample_r51.tsv"])
def test_tdm_is_never_in_the_usage_totals(name: str) -> None:
    parsed = parse_report((COUNTER_DATA / "r51" / name).read_bytes(), name)
    tdm = parsed.tdm_totals()
    assert tdm["Total_Item_Requests"] > 0, "the official sample has TDM rows"
    every = {}
    for _p, _d, _i, metric, _m, n in parsed.usage_rows():
        every[metric] = every.get(metric, 0) + n
    regular = {k: v for k, v in every.items() if not k.startswith("TDM:")}
    assert parsed.totals() == regular
    assert (
        parsed.totals()["Total_Item_Requests"]
        != regular["Total_Item_Requests"] + (tdm["Total_Item_Requests"])
    )


def test_report_filtered_to_tdm_is_all_tdm() -> None:
    path = COUNTER_DATA / "r51" / "TRJ1_sample_r51.tsv"
    text = path.read_text(encoding="utf-8-sig").replace(
        "Access_Method=Regular", "Access_Method=TDM", 1
    )
    assert "Access_Method=TDM" in text
    parsed = parse_report(text.encode(), "trj1.tsv")
    plain = parse_report(path.read_bytes(), "trj1.tsv")
    assert parsed.totals() == {} and parsed.tdm_totals() == plain.totals()


@pytest.mark.django_db
def test_library_use_counts_regular_only_and_tdm_is_shown_apart(
    library_a: Any, librarian_a: Any
) -> None:
    resource = Resource.objects.create(
        library=library_a, key="p1", name="平台一", name_en="Platform 1"
    )
    path = COUNTER_DATA / "r51" / "PR_sample_r51.tsv"
    report = import_file(library_a, path.read_bytes(), path.name)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter="\t"))
    head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
    col = {name: i for i, name in enumerate(rows[head])}

    def january(access: str) -> int:
        return sum(
            int(r[col["Jan-2022"]])
            for r in rows[head + 1 :]
            if r
            and r[col["Platform"]] == "Platform 1"
            and r[col["Metric_Type"]] == "Total_Item_Requests"
            and r[col["Access_Method"]] == access
        )

    jan = dt.date(2022, 1, 1)
    regular, tdm = january("Regular"), january("TDM")
    assert tdm > 0
    assert library_monthly_totals(library_a, jan, dt.date(2022, 1, 31)) == {jan: regular}
    assert usage_between(library_a, jan, dt.date(2022, 1, 31)) == {resource.pk: regular}
    assert tdm_between(library_a, jan, dt.date(2022, 1, 31)) == {resource.pk: tdm}
    page = client_for(librarian_a).get(f"/analytics/reports/{report.pk}/")
    assert page.status_code == 200 and b'id="tdm"' in page.content
