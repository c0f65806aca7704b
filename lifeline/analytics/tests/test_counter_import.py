"""COUNTER import: every official sample imports with totals that match the file, computed here
independently of the parser; bad files are refused with a precise message and nothing stored."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from openpyxl import Workbook

from lifeline.analytics.counter.dates import parse_month
from lifeline.analytics.counter.parse import CounterError
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import UsageRecord, UsageReport, UsageSource
from lifeline.analytics.services import denials_between, tdm_between, usage_between
from lifeline.analytics.tests.conftest import sample_files
from lifeline.core.models import AuditLog
from lifeline.registry.models import Resource

pytestmark = pytest.mark.django_db


def expected_totals(path: Path, access: str = "Regular") -> dict[str, int]:
    """Sum per metric straight from the file: Reporting_Period_Total (TSV) or every count (JSON),
    of the rows with this Access_Method (a row without one is Regular)."""
    totals: dict[str, int] = defaultdict(int)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".tsv":
        rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
        head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
        m, t = rows[head].index("Metric_Type"), rows[head].index("Reporting_Period_Total")
        a = rows[head].index("Access_Method") if "Access_Method" in rows[head] else None
        for r in rows[head + 1 :]:
            if len(r) > t and r[t].strip() and (r[a] if a is not None else "Regular") == access:
                totals[r[m]] += int(r[t])
        return {k: v for k, v in totals.items() if v}

    def walk(node: Any, method: str) -> None:
        if isinstance(node, dict):
            method = node.get("Access_Method", method)
            if "Instance" in node:  # R5.0
                for inst in node["Instance"]:
                    if method == access:
                        totals[inst["Metric_Type"]] += inst["Count"]
            elif "Performance" in node and isinstance(node["Performance"], dict):  # R5.1
                for metric, months in node["Performance"].items():
                    if method == access:
                        totals[metric] += sum(months.values())
            else:
                for value in node.values():
                    walk(value, method)
        elif isinstance(node, list):
            for value in node:
                walk(value, method)

    walk(json.loads(text)["Report_Items"], "Regular")
    return {k: v for k, v in totals.items() if v}


def stored_totals(report: UsageReport, tdm: bool = False) -> dict[str, int]:
    from lifeline.analytics.choices import TDM_PREFIX, metric_label

    rows = UsageRecord.objects.filter(report=report).values("metric").annotate(n=Sum("count"))
    labels = {metric_label(r["metric"]): r["n"] for r in rows}
    if tdm:
        return {
            k.removeprefix(TDM_PREFIX): v for k, v in labels.items() if k.startswith(TDM_PREFIX)
        }
    return {k: v for k, v in labels.items() if not k.startswith(TDM_PREFIX)}


def test_samples_are_there(counter_data: Path) -> None:
    assert len(sample_files()) == 64


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_official_sample_imports_with_matching_totals(library_a: Any, path: Path) -> None:
    report = import_file(library_a, path.read_bytes(), path.name)
    expected = {k: v for k, v in expected_totals(path).items() if v}
    assert expected, "the sample has usage"
    assert report.totals == expected
    assert stored_totals(report) == expected
    # Text and data mining is stored too, apart (issue 16, part 4).
    tdm = expected_totals(path, "TDM")
    assert report.tdm_totals == tdm and stored_totals(report, tdm=True) == tdm


def test_reimport_replaces_and_never_double_counts(library_a: Any, counter_data: Path) -> None:
    data = (counter_data / "r51" / "TR_sample_r51.tsv").read_bytes()
    first = import_file(library_a, data, "tr.tsv")
    before = stored_totals(first)
    second = import_file(
        library_a, (counter_data / "r51" / "TR_sample_r51.json").read_bytes(), "tr.json"
    )
    assert second.replaced_rows == first.row_count
    assert list(UsageReport.objects.filter(library=library_a)) == [second]
    assert stored_totals(second) == before
    # One IMPORT audit row per import, with counts.
    assert AuditLog.objects.filter(action="import", model="analytics.UsageReport").count() == 2


def test_other_library_is_untouched_by_reimport(
    library_a: Any, library_b: Any, counter_data: Path
) -> None:
    data = (counter_data / "r50" / "Sample-PR.tsv").read_bytes()
    import_file(library_b, data, "pr.tsv")
    import_file(library_a, data, "pr.tsv")
    import_file(library_a, data, "pr.tsv")
    assert UsageReport.objects.filter(library=library_b).count() == 1
    assert (
        UsageRecord.objects.filter(report__library=library_b).count()
        == UsageRecord.objects.filter(report__library=library_a).count()
    )


def test_platforms_map_to_resources_and_usage_between(library_a: Any, counter_data: Path) -> None:
    resource = Resource.objects.create(
        library=library_a, key="p1", name="平台一", name_en="Platform 1"
    )
    import_file(library_a, (counter_data / "r51" / "PR_sample_r51.json").read_bytes(), "pr.json")
    import_file(
        library_a, (counter_data / "r51" / "TRJ1_sample_r51.json").read_bytes(), "trj1.json"
    )
    source = UsageSource.objects.get(library=library_a, platform="Platform 1")
    assert source.resource == resource
    # PR counts the platform: TR_J1 is a part of it and must not be added on top.
    pr = json.loads((counter_data / "r51" / "PR_sample_r51.json").read_text(encoding="utf-8-sig"))

    def january(access: str) -> int:
        return sum(
            ap["Performance"].get("Total_Item_Requests", {}).get("2022-01", 0)
            for item in pr["Report_Items"]
            if item["Platform"] == "Platform 1"
            for ap in item["Attribute_Performance"]
            if ap["Access_Method"] == access
        )

    jan, jan_tdm = january("Regular"), january("TDM")
    assert jan_tdm > 0, "the sample has text and data mining"
    # Use is Regular only: TDM summed in would give jan + jan_tdm (issue 16, part 4).
    assert usage_between(library_a, dt.date(2022, 1, 1), dt.date(2022, 1, 31)) == {resource.pk: jan}
    assert tdm_between(library_a, dt.date(2022, 1, 1), dt.date(2022, 1, 31)) == {
        resource.pk: jan_tdm
    }
    # Half a month counts half (spread evenly over the days).
    assert usage_between(library_a, dt.date(2022, 4, 1), dt.date(2022, 4, 15))[resource.pk] > 0


def test_denials_are_demand(library_a: Any, counter_data: Path) -> None:
    resource = Resource.objects.create(library=library_a, key="db1", name="Database 1")
    import_file(library_a, (counter_data / "r51" / "DRD2_sample_r51.tsv").read_bytes(), "drd2.tsv")
    rows = list(
        csv.reader(
            io.StringIO(
                (counter_data / "r51" / "DRD2_sample_r51.tsv").read_text(encoding="utf-8-sig")
            ),
            delimiter="\t",
        )
    )
    expected = sum(int(r[6]) for r in rows if r and r[0] == "Database 1")
    assert denials_between(library_a, dt.date(2022, 1, 1), dt.date(2022, 12, 31)) == {
        resource.pk: expected
    }


# --- other formats and mangled files -------------------------------------------------------------


def tsv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter="\t"))


def as_tsv(rows: list[list[Any]], bom: bool = True) -> bytes:
    return (
        ("\ufeff" if bom else "") + "\n".join("\t".join(str(c) for c in r) for r in rows)
    ).encode()


def test_csv_and_xlsx_with_excel_mangled_month_headings(library_a: Any, counter_data: Path) -> None:
    path = counter_data / "r50" / "Sample-TR_J1.tsv"
    rows = tsv_rows(path)
    head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
    # CSV as Excel saves it, months as "Jan-16"
    csv_rows = [r[:] for r in rows]
    csv_rows[head][-3:] = ["Jan-16", "Feb-16", "Mar-16"]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows)
    report = import_file(library_a, buffer.getvalue().encode("utf-8-sig"), "tr_j1.csv")
    assert report.file_format == "csv" and report.totals == expected_totals(path)
    # XLSX with real date cells, a serial number and "2016/3/1"
    wb = Workbook()
    ws = wb.active
    for i, r in enumerate(rows):
        if i == head:
            r = [*r[:-3], dt.datetime(2016, 1, 1), 42401, "2016/3/1"]  # 42401 = 2016-02-01
        elif i > head:
            r = [int(c) if c.isdigit() and j >= len(r) - 4 else c for j, c in enumerate(r)]
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    report = import_file(library_a, out.getvalue(), "tr_j1.xlsx")
    assert report.file_format == "xlsx" and stored_totals(report) == expected_totals(path)
    assert report.replaced_rows > 0


@pytest.mark.parametrize(
    ("value", "month"),
    [
        ("Jan-2022", dt.date(2022, 1, 1)),
        ("Jan-22", dt.date(2022, 1, 1)),
        ("2022/1/1", dt.date(2022, 1, 1)),
        ("1/1/2022", dt.date(2022, 1, 1)),
        ("44562", dt.date(2022, 1, 1)),
        (44593, dt.date(2022, 2, 1)),
        ("2022年3月", dt.date(2022, 3, 1)),
        ("2022-04-01 00:00:00", dt.date(2022, 4, 1)),
        ("September 2021", dt.date(2021, 9, 1)),
        ("Total", None),
        (12, None),
    ],
)
def test_month_headings(value: Any, month: dt.date | None) -> None:
    assert parse_month(value) == month


def refused(library: Any, data: bytes, name: str = "x.tsv") -> str:
    with pytest.raises(CounterError) as info:
        import_file(library, data, name)
    assert UsageReport.objects.count() == 0 and UsageRecord.objects.count() == 0
    return " | ".join(str(p) for p in info.value.problems)


def test_wrong_report_id_names_the_columns(library_a: Any, counter_data: Path) -> None:
    rows = tsv_rows(counter_data / "r50" / "Sample-TR_J1.tsv")
    rows[1][1] = "DR"
    message = refused(library_a, as_tsv(rows))
    assert "Database" in message and "Title" in message
    rows[1][1] = "TR_J3"  # a TR view that must have Access_Type
    assert "Access_Type" in refused(library_a, as_tsv(rows))
    rows[1][1] = "XX_9"
    assert "Report_ID" in refused(library_a, as_tsv(rows))


def test_negative_and_non_numeric_counts_name_line_and_column(
    library_a: Any, counter_data: Path
) -> None:
    rows = tsv_rows(counter_data / "r50" / "Sample-TR_J1.tsv")
    head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
    rows[head + 2][-2] = "-3"
    rows[head + 3][-1] = "lots"
    message = refused(library_a, as_tsv(rows))
    assert f"line {head + 3}, column “Feb-2016”" in message and "negative" in message
    assert f"line {head + 4}, column “Mar-2016”" in message and "lots" in message


def test_missing_month_and_bad_total(library_a: Any, counter_data: Path) -> None:
    rows = tsv_rows(counter_data / "r50" / "Sample-TR_J1.tsv")
    head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
    cut = [r[:-1] for r in rows[head:]]
    assert "2016-03" in refused(library_a, as_tsv(rows[:head] + cut))
    rows[head + 1][rows[head].index("Reporting_Period_Total")] = "999"
    assert "Reporting_Period_Total is 999" in refused(library_a, as_tsv(rows))


def test_metric_not_allowed_release_and_header(library_a: Any, counter_data: Path) -> None:
    rows = tsv_rows(counter_data / "r50" / "Sample-TR_J1.tsv")
    head = next(i for i, r in enumerate(rows) if "Metric_Type" in r)
    bad = [r[:] for r in rows]
    bad[head + 1][bad[head].index("Metric_Type")] = "No_License"
    assert "No_License is not a metric type of TR_J1" in refused(library_a, as_tsv(bad))
    bad = [r[:] for r in rows]
    bad[2][1] = "4"
    assert "Release “4”" in refused(library_a, as_tsv(bad))
    assert "Reporting_Period" in refused(
        library_a, as_tsv([r for r in rows if r[:1] != ["Reporting_Period"]])
    )
    # A header row the report can be read without (Created_By) is not required.
    assert import_file(library_a, as_tsv([r for r in rows if r[:1] != ["Created_By"]]), "x.tsv")


def test_truncated_json_html_and_sushi_exception(library_a: Any, counter_data: Path) -> None:
    data = (counter_data / "r51" / "TR_sample_r51.json").read_bytes()
    assert "cut short" in refused(library_a, data[: len(data) // 2], "tr.json")
    assert "HTML" in refused(
        library_a, b"<!doctype html><html><body>Login</body></html>", "tr.json"
    )
    assert "3030" in refused(
        library_a,
        json.dumps({"Code": 3030, "Severity": "Error", "Message": "No Usage Available"}).encode(),
    )


def test_json_negative_count_and_month_outside(library_a: Any, counter_data: Path) -> None:
    doc = json.loads(
        (counter_data / "r51" / "TRJ1_sample_r51.json").read_text(encoding="utf-8-sig")
    )
    perf = doc["Report_Items"][0]["Attribute_Performance"][0]["Performance"]["Total_Item_Requests"]
    perf["2022-02"] = -5
    perf["2023-01"] = 7
    message = refused(library_a, json.dumps(doc).encode(), "x.json")
    assert (
        "Report_Items[0].Attribute_Performance[0].Performance.Total_Item_Requests.2022-02"
        in message
        and "negative" in message
    )
    assert "2023-01" in message and "outside the reporting period" in message


def test_utf16_and_gb18030_text(library_a: Any, counter_data: Path) -> None:
    path = counter_data / "r50" / "Sample-PR_P1.tsv"
    text = path.read_text(encoding="utf-8-sig").replace("Platform 1", "中国知网")
    report = import_file(library_a, text.encode("utf-16"), "pr.tsv")
    assert "中国知网" in report.platforms
    report = import_file(library_a, text.encode("gb18030"), "pr.tsv")
    assert report.totals == expected_totals(path)
