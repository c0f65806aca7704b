"""The import's page, the harvest log and the API show the kept exceptions and the warnings, in
Chinese and in English, to the library's staff only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lifeline.analytics.models import SushiCredential, SushiHarvest, UsageReport
from lifeline.analytics.sushi import _handle_body
from lifeline.conftest import client_for

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).parent / "data" / "counter_corpus"


def real(name: str) -> bytes:
    (path,) = [p for p in CORPUS.iterdir() if p.name.endswith(name)]
    return path.read_bytes()


def upload(client: Any, name: str) -> Any:
    return client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile(name, real(name))}, follow=True
    )


def test_report_page_shows_warnings_and_exceptions_in_both_languages(librarian_a: Any) -> None:
    client = client_for(librarian_a)
    page = upload(client, "some_data_3050.json")
    assert page.status_code == 200
    report = UsageReport.objects.get()
    html = page.content.decode()
    # Chinese by default: the warning worded in Chinese, the vendor's exception as sent.
    assert "tandfeBooks:Total_Chapter_Requests" in html and "跳过了指标类型" in html
    assert "3050" in html and "Parameter Not Recognized" in html
    english = client.get(reverse("analytics:report", args=[report.pk]) + "?lang=en")
    text = english.content.decode()
    assert "were skipped" in text and "3050" in text


def test_api_gives_codes_and_worded_warnings(librarian_a: Any, librarian_b: Any) -> None:
    client = client_for(librarian_a)
    upload(client, "hwire_pr.json")
    body = client.get("/api/analytics/reports/?lang=en").json()
    rows = body["results"] if isinstance(body, dict) else body
    (row,) = rows
    assert row["warnings"][0]["code"] == "denials_apart"
    assert "kept apart as denials" in row["warning_messages"][0]
    other = client_for(librarian_b).get("/api/analytics/reports/").json()
    assert (other["results"] if isinstance(other, dict) else other) == []


def test_harvest_log_shows_the_exceptions(librarian_a: Any, librarian_b: Any) -> None:
    cred = SushiCredential.objects.create(
        library=librarian_a.memberships.get().library,
        name="JSTOR",
        base_url="https://sushi.example/r5",
        customer_id="c",
    )
    harvest = SushiHarvest.objects.create(
        credential=cred, report_code="TR", begin=dt.date(2020, 1, 1), end=dt.date(2020, 1, 31)
    )
    harvest.attempts = 1
    now = dt.datetime(2023, 1, 5, tzinfo=dt.UTC)
    _handle_body(harvest, httpx.Response(200, content=real("naked_errors.json")), now)
    page = client_for(librarian_a).get(reverse("analytics:sushi")).content.decode()
    assert "1011" in page and "Report Queued for Processing" in page and "3060" in page
    assert (
        "Report Queued"
        not in client_for(librarian_b).get(reverse("analytics:sushi")).content.decode()
    )


def test_refused_upload_names_the_vendor_exception(librarian_a: Any) -> None:
    page = upload(client_for(librarian_a), "naked_error_lowercase.json")
    assert page.status_code == 400 and "executeSushiAnalysis" in page.content.decode()


def test_hostile_uploads_fail_safely(librarian_a: Any, patron_a: Any) -> None:
    client = client_for(librarian_a)
    for data in (
        b'"{\\"body\\": \\"[1, 2\\"}"',  # a string holding broken JSON
        b'{"body": {"body": {"body": {"Report_Header": 5}}}}',
        b'{"Report_ID": "TR", "Release": "5", "Report_Items": {"a": 1}}',
        b'{"Exception": [1, 2, 3]}',
        b"[]",
        b'{"Report_Header": {"Report_ID": "PR", "Release": "5", "Report_Filters": '
        b'[{"Name": "Begin_Date", "Value": "2020-01-01"}]}, "Report_Items": '
        b'[{"Platform": "P", "Performance": [{"Period": {"Begin_Date": "1999-01-01"}, '
        b'"Instance": [{"Metric_Type": "Searches_Platform", "Count": 1}]}]}]}',
    ):
        page = client.post(
            reverse("analytics:upload"), {"file": SimpleUploadedFile("x.json", data)}
        )
        assert page.status_code in (200, 302, 400), data
    assert not UsageReport.objects.exclude(platforms=[]).filter(begin__year=1999).exists()
    assert client_for(patron_a).get(reverse("analytics:upload")).status_code in (302, 403, 404)
