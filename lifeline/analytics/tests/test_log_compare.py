"""The mixed-platform log's title-level use beside a COUNTER TR of the same month."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from openpyxl import load_workbook

from lifeline.analytics.logcompare import compare, log_title_keys
from lifeline.analytics.logimport import run_log_import
from lifeline.analytics.models import LogImport, UsageItem, UsageRecord, UsageReport, UsageSource
from lifeline.analytics.tests.test_logs_platforms import LOG
from lifeline.conftest import client_for
from lifeline.registry.models import KbartTitle, Resource

pytestmark = pytest.mark.django_db
OCT = dt.date(2024, 10, 1)
URL = reverse("analytics:log_compare")


@pytest.fixture
def counter_tr(library_a: Any, platforms: dict[str, Resource]) -> None:
    sd = platforms["sd"]
    KbartTitle.objects.create(
        resource=sd, publication_title="The Lancet", print_identifier="0140-6736"
    )
    KbartTitle.objects.create(resource=sd, publication_title="Cell", print_identifier="0092-8674")
    report = UsageReport.objects.create(
        library=library_a, report_id="TR_J1", release="5", file_format="tsv", begin=OCT, end=OCT
    )
    source = UsageSource.objects.create(library=library_a, platform="ScienceDirect", resource=sd)
    for title, issn, total, unique in (
        ("THE LANCET", "0140-6736", 4, 2),
        ("Cell", "0092-8674", 3, 2),
    ):
        item = UsageItem.objects.create(library=library_a, key=issn, title=title, print_issn=issn)
        for metric, n in ((2, total), (4, unique)):
            UsageRecord.objects.create(
                report=report, source=source, item=item, metric=metric, month=OCT, count=n
            )
    data = ("\n".join(LOG) + "\n").encode()
    log = LogImport.objects.create(library=library_a, filename="oct.log", size=len(data))
    log.file.save("oct.log", ContentFile(data), save=True)
    run_log_import(log)


def test_title_keys_from_units() -> None:
    assert log_title_keys("sciencedirect", "pii", "S0140673620301835") == (["0140-6736"], [])
    assert log_title_keys("springer", "doi", "10.1007/s11192-020-03456-7") == ([], ["11192"])
    assert log_title_keys("cnki", "proprietary", "ZGTS202001001") == ([], ["zgts"])
    assert log_title_keys("wiley", "doi", "10.1002/9781119123456.ch1")[0] == ["9781119123456"]


def test_logs_line_up_with_the_counter_tr(
    library_a: Any,
    platforms: dict[str, Resource],
    counter_tr: None,
) -> None:
    result = compare(library_a, platforms["sd"], OCT)
    rows = {
        r.title: (r.counter_requests, r.log_requests, r.counter_unique, r.log_unique)
        for r in result.rows
    }
    assert rows == {"The Lancet": (4, 4, 2, 2), "Cell": (3, 0, 2, 0)}
    lancet = next(r for r in result.rows if r.title == "The Lancet")
    assert lancet.difference == 0.0
    assert (result.counter_total, result.log_total, result.difference) == (7, 4, -42.9)
    assert [r.title for r in result.most_different()] == ["Cell"]


def test_compare_page_and_xlsx(
    library_a: Any,
    librarian_a: Any,
    platforms: dict[str, Resource],
    counter_tr: None,
) -> None:
    client = client_for(librarian_a)
    query = {"resource": platforms["sd"].pk, "month": "2024-10"}
    page = client.get(URL, query)
    assert page.status_code == 200 and b"The Lancet" in page.content and b"-42.9" in page.content
    sheet = client.get(URL, {**query, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("The Lancet", "0140-6736", 4, 4)
    assert rows[-1][2:4] == (7, 4)


def test_compare_hostile(
    client: Any,
    patron_a: Any,
    librarian_b: Any,
    platforms: dict[str, Resource],
) -> None:
    query = {"resource": platforms["sd"].pk, "month": "2024-10"}
    assert client.get(URL, query).status_code == 302
    assert client_for(patron_a).get(URL, query).status_code == 403
    # Another library's resource is not a choice: refused as a form error.
    assert client_for(librarian_b).get(URL, query).status_code == 400
    assert client_for(librarian_b).get(URL, {**query, "month": "20x4"}).status_code == 400
