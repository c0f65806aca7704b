"""COUNTER reports as vendors really send them: each shape on a real file from another usage
tool's test suite (tests/data/counter_corpus, sources in its README)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from lifeline.analytics.choices import HarvestStatus
from lifeline.analytics.counter.parse import CounterError, parse_report
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import SushiCredential, SushiHarvest, UsageRecord
from lifeline.analytics.sushi import _handle_body

CORPUS = Path(__file__).parent / "data" / "counter_corpus"
NOW = dt.datetime(2023, 1, 5, 3, 0, tzinfo=dt.UTC)


def real(name: str) -> bytes:
    (path,) = [p for p in CORPUS.iterdir() if p.name.endswith(name)]
    return path.read_bytes()


def codes(parsed: Any) -> list[Any]:
    return [w["code"] for w in parsed.warnings]


def refusal(data: bytes, name: str = "x.json") -> str:
    with pytest.raises(CounterError) as info:
        parse_report(data, name)
    return "; ".join(str(p) for p in info.value.problems)


def sushi_answer(library: Any, body: bytes, code: str = "TR") -> SushiHarvest:
    cred = SushiCredential.objects.create(
        library=library, name="Vendor", base_url="https://sushi.example/r5", customer_id="c"
    )
    harvest = SushiHarvest.objects.create(
        credential=cred, report_code=code, begin=dt.date(2019, 1, 1), end=dt.date(2019, 12, 31)
    )
    harvest.attempts = 1
    _handle_body(harvest, httpx.Response(200, content=body), NOW)
    harvest.refresh_from_db()
    return harvest


# 1. Wrapped JSON ----------------------------------------------------------------------------


def test_proquest_wrapped_body_is_read() -> None:
    parsed = parse_report(real("5_TR_ProQuestEbookCentral.json"), "pq.json")
    inner = json.loads(real("5_TR_ProQuestEbookCentral.json"))["body"]
    expected = sum(
        inst["Count"]
        for item in inner["Report_Items"]
        for perf in item["Performance"]
        for inst in perf["Instance"]
    )
    assert parsed.report_id == "TR" and sum(parsed.totals().values()) == expected > 0


@pytest.mark.django_db
def test_proquest_wrapped_answer_with_exception_keeps_it(library_a: Any) -> None:
    data = real("5_TR_ProQuestEbookCentral_exception.json")
    inner = json.loads(data)["body"]["Report_Header"]["Exceptions"]
    done = sushi_answer(library_a, data)
    assert done.exception_codes == [int(e["Code"]) for e in inner]
    assert done.exceptions[0]["Message"] == inner[0]["Message"]
    assert done.status != HarvestStatus.INVALID


# 2. Warnings are not failures -----------------------------------------------------------------


@pytest.mark.django_db
def test_3062_is_a_warning_the_data_is_kept(library_a: Any) -> None:
    data = real("some_data_3062.json")
    done = sushi_answer(library_a, data)
    assert done.status == HarvestStatus.SUCCESS, done.message
    assert 3062 in done.exception_codes and done.report is not None
    assert UsageRecord.objects.filter(report=done.report).exists()
    assert done.report.exceptions and done.report.exceptions[0]["Code"] == 3062


@pytest.mark.django_db
def test_1011_beside_3060_is_queued_and_retried(library_a: Any) -> None:
    done = sushi_answer(library_a, real("naked_errors.json"))
    assert done.status == HarvestStatus.QUEUED and done.retry_at is not None
    assert {e["Code"] for e in done.exceptions} == {1011, 3060}


# 3. Exceptions where vendors put them ---------------------------------------------------------


@pytest.mark.django_db
def test_singular_exception_object_is_kept_and_shown(library_a: Any) -> None:
    data = real("error-in-root.json")
    assert "2090" in refusal(data) and "Got response code: 404" in refusal(data)
    done = sushi_answer(library_a, data)
    assert done.exception_codes == [2090] and "404" in done.message


def test_header_fields_at_the_top_level_are_read() -> None:
    parsed = parse_report(real("no_data_3050.json"), "x.json")
    assert parsed.report_id == "TR" and [e["Code"] for e in parsed.exceptions] == [3050]


@pytest.mark.django_db
def test_report_items_null_with_3010(library_a: Any) -> None:
    data = real("severity-missing.json")
    parsed = parse_report(data, "x.json")
    assert parsed.report_id == "DR" and parsed.exceptions[0]["Code"] == 3010
    done = sushi_answer(library_a, data, "DR")
    assert done.status == HarvestStatus.UNAVAILABLE and done.exception_codes == [3010]
    assert "Report Version Not Supported" in done.exception_lines[0]


@pytest.mark.django_db
def test_queued_naked_exception_is_kept(library_a: Any) -> None:
    done = sushi_answer(library_a, real("naked_error.json"))
    assert done.status == HarvestStatus.QUEUED and done.exceptions[0]["Code"] == 1011


# 4. Rows that are not usage ---------------------------------------------------------------------


def test_summary_rows_without_metric_type_are_skipped_and_listed() -> None:
    parsed = parse_report(real("counter__5__PR-g.tsv"), "pr.tsv")
    (note,) = [w for w in parsed.warnings if w["code"] == "skipped_metric"]
    assert note["params"]["metric"] == "∅" and note["params"]["rows"] == 3
    assert note["params"]["where"] == "19, 20, 21"
    assert parsed.totals()  # the usage rows are there


def test_vendor_specific_metric_is_skipped_and_listed() -> None:
    parsed = parse_report(real("some_data_3050.json"), "tf.json")
    (note,) = [w for w in parsed.warnings if w["code"] == "skipped_metric"]
    assert note["params"]["metric"] == "tandfeBooks:Total_Chapter_Requests"
    assert "tandfeBooks:Total_Chapter_Requests" not in parsed.totals()


# 5. Lenient where nothing is lost ------------------------------------------------------------


def test_reporting_period_written_with_to_and_metric_with_a_space() -> None:
    parsed = parse_report(real("COUNTER_R5_Report_Examples_PR.csv"), "pr.csv")
    assert (parsed.begin, parsed.end) == (dt.date(2017, 1, 1), dt.date(2017, 6, 30))
    assert "Total_Item_Investigations" in parsed.totals()


def test_r50_header_without_end_date() -> None:
    doc = json.loads(real("counter5_tr_test1.json"))
    filters = doc["Report_Header"]["Report_Filters"]
    doc["Report_Header"]["Report_Filters"] = [f for f in filters if f["Name"] != "End_Date"]
    whole = parse_report(real("counter5_tr_test1.json"), "tr.json")
    parsed = parse_report(json.dumps(doc).encode(), "tr.json")
    assert parsed.totals() == whole.totals() and "end_inferred" in codes(parsed)
    assert parsed.end == whole.end


def test_repeated_rows_with_other_counts_are_added_and_named() -> None:
    parsed = parse_report(real("counter5_table_dr.csv"), "dr.csv")
    (note,) = [w for w in parsed.warnings if w["code"] == "repeated_summed"]
    assert note["params"]["where"] == "20+25"
    lines = real("counter5_table_dr.csv").decode("utf-8-sig").splitlines()[14:]
    # Lines 20 and 25 (BOOKS, No_License: 27 and 10) both count, as every other line does.
    assert parsed.totals()["No_License"] == sum(
        int(cells[6]) for cells in (line.split(",") for line in lines) if cells[5] == "No_License"
    )
    assert sum(parsed.totals().values()) == sum(int(line.split(",")[6]) for line in lines)


@pytest.mark.django_db
def test_no_license_rows_in_a_pr_are_kept_apart(library_a: Any) -> None:
    report = import_file(library_a, real("hwire_pr.json"), "hwire_pr.json")
    assert report.totals["No_License"] == 298
    (note,) = [w for w in report.warnings if w["code"] == "denials_apart"]
    assert note["params"]["total"] == 298
    assert any("No_License" in text for text in report.warning_messages)


def test_ir_m1_with_extra_and_oddly_written_columns() -> None:
    assert parse_report(real("counter5_table_ir_m1.csv"), "ir.csv").report_id == "IR_M1"
    assert parse_report(real("counter__5__IR_M1-f.tsv"), "ir.tsv").totals()
    parsed = parse_report(real("dr-extra-ids.json"), "dr.json")
    assert "extra_columns" in codes(parsed)


def test_multi_sheet_workbook_reads_the_report_sheet() -> None:
    # The real workbook (one sheet), saved again with a cover sheet before it and a notes
    # sheet after it, as staff do.
    book = load_workbook(io.BytesIO(real("counter__5__TR-sample.xlsx")))
    cover = book.create_sheet("Cover", 0)
    cover.append(["Usage statistics 2019", "prepared for the library"])
    book.create_sheet("Notes").append(["see the vendor's portal"])
    out = io.BytesIO()
    book.save(out)
    parsed = parse_report(out.getvalue(), "tr.xlsx")
    assert parsed.totals() == parse_report(real("counter__5__TR-sample.xlsx"), "tr.xlsx").totals()
    (note,) = [w for w in parsed.warnings if w["code"] == "other_sheets"]
    assert note["params"]["sheets"] == "Cover, Notes"
    empty = Workbook()
    buffer = io.BytesIO()
    empty.save(buffer)
    assert "No column heading row" in refusal(buffer.getvalue(), "x.xlsx")


# 6. Messages -------------------------------------------------------------------------------


def test_empty_totals_in_a_spreadsheet_are_not_zero() -> None:
    rows = real("counter__5__TR_B1-a.xlsx")
    book = load_workbook(io.BytesIO(rows))
    sheet = book.active
    assert sheet is not None
    head = next(r for r in sheet.iter_rows() if r[0].value == "Title")
    total_col = [c.value for c in head].index("Reporting_Period_Total")
    first = sheet[head[0].row + 1]
    first[total_col].value = None
    out = io.BytesIO()
    book.save(out)
    parsed = parse_report(out.getvalue(), "tr.xlsx")
    assert parsed.totals() == parse_report(rows, "tr.xlsx").totals()
    (note,) = [w for w in parsed.warnings if w["code"] == "empty_total"]
    assert note["params"]["where"] == str(head[0].row + 1)


def test_empty_r51_report_without_3030_warns() -> None:
    assert "empty_without_3030" in codes(parse_report(real("IRM1_empty_r51.json"), "x.json"))
    assert "empty_without_3030" not in codes(parse_report(real("IR_M1-empty.json"), "x.json"))


@pytest.mark.django_db
def test_proquest_number_style_error_keeps_the_vendor_message(library_a: Any) -> None:
    for name in ("naked_error_lowercase.json", "5_DR_ProQuestEbookCentral_exception.json"):
        assert "1001 executeSushiAnalysis" in refusal(real(name))
        done = sushi_answer(library_a, real(name))
        assert "executeSushiAnalysis" in done.message
        assert done.status == HarvestStatus.UNAVAILABLE and done.retry_at is not None
        assert done.exceptions[0] == {
            "Code": 1001,
            "Severity": "Error",
            "Message": "executeSushiAnalysis",
        }


def test_stringified_json_is_read() -> None:
    assert "2090" in refusal(real("stringified_error.json"))


def test_a_flood_of_exceptions_is_capped() -> None:
    flood = json.dumps([{"Code": 3060, "Message": "x"}] * 5000).encode()
    with pytest.raises(CounterError) as info:
        parse_report(flood, "x.json")
    assert len(info.value.exceptions) == 100
