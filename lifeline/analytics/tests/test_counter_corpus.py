"""Every real COUNTER file of the corpus (tests/data/counter_corpus, 128 files from four usage
tools' test suites): accepted, or refused for a reason a careful librarian would also give.
docs/counter-corpus.md has the table and the case for each refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from lifeline.analytics.corpus import counter_file, run

CORPUS = Path(__file__).parent / "data" / "counter_corpus"
P_CELUS = "celus__test-data__counter5__"
P_NIBBLER = "celus-nibbler__tests__data__counter__5__"
P_FOLIO = "mod-erm-usage__mod-erm-usage-server__src__test__resources__fileupload__"
P_PYCOUNTER = "pycounter__pycounter__test__counter5__data__"
NO_HEADER_ROWS = "the header rows (Report_ID, Release, Reporting_Period ...) are missing"
NO_HEADER = "no Report_Header (or an empty one)"
EXCEPTION = "This is a SUSHI exception"
# file → what the refusal must say.
REFUSED = {
    # The header rows were cut off: which report (DR or DR_D1?) and release cannot be known.
    **{P_NIBBLER + f"{r}-b.{x}": NO_HEADER_ROWS for r, x in [("DR", "tsv"), ("PR", "tsv")]},
    P_NIBBLER + "TR-b.tsv": NO_HEADER_ROWS,
    P_NIBBLER + "IR_M1-b.csv": NO_HEADER_ROWS,
    # An empty Report_Header, or none.
    **{P_NIBBLER + f"{r}-d.json": NO_HEADER for r in ("DR", "PR", "TR", "IR_M1")},
    P_CELUS + "data_simple.json": NO_HEADER,
    P_CELUS + "data_incorrect.json": NO_HEADER,
    # Month columns a year after the Reporting_Period, and a summed "TOTAL" row.
    P_NIBBLER + "IR_M1-a.csv": "Months of the reporting period have no column",
    # Several institutions' usage in one file.
    P_NIBBLER + "TR-with-organization.tsv": "consortium report",
    # "Jal-2022", "Mrz-2022": not months.
    P_NIBBLER + "errors__TR-wrong_months1.tsv": "“Jal-2022” is not a month",
    P_NIBBLER + "errors__TR-wrong_months2.tsv": "“Jal-2022” is not a month",
    # Report_ID contradicts the columns or the metric types.
    P_CELUS + "counter5_table_mismatched_rt.csv": "DR starts with the column Database",
    P_CELUS + "counter5_tr_test1_wrong_id.json": "is not a metric type of TR_J1",
    P_PYCOUNTER + "sushi_book.json": "is not a metric type of TR_B1",
    # SUSHI answers that hold only exceptions: nothing to import, the vendor's words shown.
    P_CELUS + "5_DR_ProQuestEbookCentral_exception.json": "1001 executeSushiAnalysis",
    P_CELUS + "naked_error_lowercase.json": "1001 executeSushiAnalysis",
    P_CELUS + "error-in-root.json": "2090 Got response code: 404",
    P_CELUS + "stringified_error.json": "2090 Got response code: 404",
    P_CELUS + "invalid-customer.json": "1030 Invalid Customer Id",
    P_CELUS + "naked_error.json": "1011 Report Queued for Processing",
    P_CELUS + "naked_error_3000.json": "3000 Report Not Supported",
    P_CELUS + "naked_errors.json": "3060 Invalid Report Filter Value",
    P_PYCOUNTER + "not_authorized.json": "2000 Requestor Not Authorized",
    # Not a report at all.
    P_CELUS + "no_json.txt": "No column heading row found",
    P_FOLIO + "noreport.txt": "No column heading row found",
    # A usage row without a platform: whose usage it is cannot be known.
    P_FOLIO + "DR_sample_r51_invalid_data.json": "The platform is empty",
}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[bool, str]]:
    with translation.override("en"):
        return {o.name: (o.accepted, " ".join(o.reasons)) for o in run(CORPUS, "counter")}


def test_the_corpus_is_large_enough(outcomes: dict[str, tuple[bool, str]]) -> None:
    assert len(outcomes) >= 100
    assert set(REFUSED) <= set(outcomes), set(REFUSED) - set(outcomes)


def test_every_refusal_is_one_we_defend(outcomes: dict[str, tuple[bool, str]]) -> None:
    refused = {name for name, (ok, _why) in outcomes.items() if not ok}
    assert refused == set(REFUSED), (refused - set(REFUSED), set(REFUSED) - refused)
    for name, expected in REFUSED.items():
        assert expected in outcomes[name][1], (name, outcomes[name][1])


def test_every_vendor_answer_with_exceptions_names_them() -> None:
    for name, expected in REFUSED.items():
        if expected[:4].isdigit():
            assert EXCEPTION in counter_file(CORPUS / name).reasons[0]
