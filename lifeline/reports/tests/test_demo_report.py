"""With the demo loaded, the report for the 2020 epidemic shows the seed's figures from live rows;
changing a row changes the report; the XLSX and Word files read back."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pymupdf
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from lifeline.analytics import services as analytics_services
from lifeline.analytics.counts import counts as analytics_counts
from lifeline.conftest import client_for
from lifeline.core.demo.loader import load_demo
from lifeline.core.models import ImportJob, Membership
from lifeline.delivery.choices import Status
from lifeline.delivery.models import DeliveryRequest
from lifeline.emergency.counts import counts as emergency_counts
from lifeline.emergency.counts import event_spans
from lifeline.reports import services
from lifeline.theses.counts import counts as theses_counts
from lifeline.theses.models import Thesis

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> Any:
    settings.DATA_DIR = tmp_path
    return load_demo(TODAY)["library"]


def _figures(report: services.Report, key: str) -> dict[str, Any]:
    row = next(r for r in report.table1 if r.key == key)
    return {f.title: f.figure for f in row.figures}


def test_epidemic_report_from_live_rows(demo: Any) -> None:
    span = event_spans(demo, TODAY)[0]
    assert span.start == dt.date(2020, 1, 27)
    whole_year = services.build(demo, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    delivery = next(r for r in whole_year.table1 if r.key == "delivery")
    by_measure = {f.title: f for f in delivery.figures}
    assert len(by_measure) == 4
    values = [f.figure for f in delivery.figures]
    assert values[:3] == [86_712, 83_091, 95.8]
    # A year earlier the demo has no delivery rows: zero requests, no fill rate.
    assert [f.before for f in delivery.figures][:3] == [0, 0, None]
    # Table 2: the two WorldLib groups, January to October.
    jan_oct = services.build(demo, dt.date(2020, 1, 1), dt.date(2020, 10, 31))
    assert sum(r.requested for r in jan_oct.table2) == 72_584
    assert sum(r.supplied for r in jan_oct.table2) == 69_170
    # Table 3: what each platform supplied, largest first.
    assert jan_oct.table3 and jan_oct.table3[0].figure >= jan_oct.table3[-1].figure
    # The seed's "33 Chinese databases with 63 sub-databases, 13 foreign with 58".
    dbs = [
        f.figure for f in next(r for r in whole_year.table1 if r.key == "digital_resources").figures
    ]
    assert dbs[:4] == [33, 63, 13, 58]
    # "4 new databases": VIP exams, JD Read, the Chinese flora database, WorldLib.
    assert dbs[4] == 4
    in_2021 = services.build(demo, dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    assert next(r for r in in_2021.table1 if r.key == "digital_resources").figures[4].figure == 0
    # Research (issue 13): the seed's 5,426 citation and inclusion reports of the epidemic year.
    reports = _figures(whole_year, "citation_reports")
    assert 5_426 in reports.values()
    # Outreach (issue 14): the seed's 288 class hours of its two courses, 65 of freshman training.
    literacy = [f.figure for f in next(r for r in whole_year.table1 if r.key == "literacy").figures]
    assert literacy[:2] == [288, 65]
    # The epidemic's own span is the page's default period.
    epidemic = services.build(demo, span.start, span.end)
    assert _figures(epidemic, "delivery")
    assert "86,712" in whole_year.draft or "86712" in whole_year.draft.replace(",", "")

    # Each provider agrees with its own app's rows.
    assert _figures(epidemic, "emergency") == {"Events": 1, "Drills": 0} or list(
        _figures(epidemic, "emergency").values()
    ) == [1, 0]
    this_year = emergency_counts(demo, dt.date(2026, 1, 1), TODAY)
    assert {c.measure: c.figure for c in this_year}["drills"] == 1
    tz = timezone.get_current_timezone()
    lo = dt.datetime(2020, 1, 1, tzinfo=tz)
    hi = dt.datetime(2021, 1, 1, tzinfo=tz)
    theses = {
        c.measure: c.figure for c in theses_counts(demo, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    }
    assert (
        theses["submitted"]
        == Thesis.objects.filter(library=demo, submitted_at__gte=lo, submitted_at__lt=hi).count()
    )
    usage = analytics_services.usage_between(demo, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    total = next(
        c
        for c in analytics_counts(demo, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
        if c.measure == "uses"
    )
    assert total.figure == (sum(usage.values()) if usage else None)

    # Change one live row: the report follows.
    one = (
        DeliveryRequest.objects.filter(library=demo, status=Status.DELIVERED)
        .filter(created_at__year=2020)
        .first()
    )
    assert one is not None
    DeliveryRequest.objects.filter(pk=one.pk).update(status=Status.UNFILLED)
    again = services.build(demo, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    delivery = next(r for r in again.table1 if r.key == "delivery")
    assert [f.figure for f in delivery.figures][:2] == [86_712, 83_090]


def test_page_and_exports_for_the_leader(demo: Any) -> None:
    leader = (
        get_user_model()
        .objects.filter(memberships__library=demo, memberships__role="leadership")
        .first()
        or get_user_model().objects.filter(is_superuser=True).first()
    )
    assert leader is not None
    client = client_for(leader)
    url = reverse("reports:report", args=[demo.code])
    period = {"start": "2020-01-01", "end": "2020-12-31"}
    # By default: the latest real event's span (the 2020 epidemic; drills do not count).
    span = event_spans(demo, TODAY)[0]
    default = client.get(url)
    assert default.status_code == 200
    assert span.start.isoformat() in default.content.decode()
    chosen = client.get(url, {"event": span.event_id})
    assert span.end.isoformat() in chosen.content.decode()
    page = client.get(url, period)
    assert page.status_code == 200
    text = page.content.decode()
    assert "86712" in text.replace(",", "") and "95.8" in text

    xlsx = client.get(url, {**period, "format": "xlsx"})
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert len(wb.sheetnames) == 4
    cells = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row]
    assert 86_712 in cells and 83_091 in cells and 95.8 in cells
    t2 = [c for row in wb.worksheets[1].iter_rows(values_only=True) for c in row]
    assert 86_712 in t2 and 83_091 in t2  # the total row of the two channels

    docx = client.get(url, {**period, "format": "docx"})
    assert docx.status_code == 200
    doc = Document(io.BytesIO(docx.content))
    assert len(doc.tables) == 3
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "86712" in cells and "83091" in cells and "95.8" in cells

    # The PDF is made by a background job (issue 16, part 3); the e-mail's link still leads there.
    asked = client.get(url, {**period, "format": "pdf"}, follow=True)
    assert asked.status_code == 200 and b"<form" in asked.content
    started = client.post(reverse("reports:pdf", args=[demo.code]), period)
    job = ImportJob.objects.get(kind="reports.pdf")
    assert started["Location"] == reverse("core:job", args=[job.pk]) and job.status == "done"
    done = client.get(started["Location"])
    assert done["Location"] == reverse("core:job_download", args=[job.pk])
    pdf_bytes = b"".join(client.get(done["Location"]).streaming_content)
    assert pdf_bytes.startswith(b"%PDF")
    # Only its owner gets it: another user of the same library gets a 404.
    other = get_user_model().objects.create_user("other-leader", password="x" * 12)
    Membership.objects.create(user=other, library=demo, role="leadership")
    assert client_for(other).get(done["Location"]).status_code == 404
    assert client_for(other).get(started["Location"]).status_code == 404
    with pymupdf.open(stream=pdf_bytes, filetype="pdf") as read:
        text = "".join(page.get_text() for page in read)
        fonts = {f[3] for page in read for f in page.get_fonts()}
    assert "86712" in text and "文献传递" in text
    assert any("WenQuanYiMicroHei" in f for f in fonts)  # embedded, not referenced

    # In English too.
    client.cookies["lifeline_lang"] = "en"
    page = client.get(url, period)
    assert "Document delivery" in page.content.decode()
    doc = Document(io.BytesIO(client.get(url, {**period, "format": "docx"}).content))
    assert doc.tables[0].rows[0].cells[0].text == "Service type"
    client.cookies["lifeline_lang"] = "zh-hans"

    # The summary, edited and saved, comes back on the page and in the Word file.
    saved = client.post(url, {**period, "text": "疫情期间文献传递满足率 95.8%。"})
    assert saved.status_code == 302
    page = client.get(url, period)
    assert "疫情期间文献传递满足率" in page.content.decode()
