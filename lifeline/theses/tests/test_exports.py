"""Exports: the cleared list (XLSX), the CALIS/CNKI sheet (CSV/XLSX, embargo respected), the
statistics (XLSX, chart), in the request's language; query counts of the lists."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lifeline.conftest import client_for
from lifeline.theses import services
from lifeline.theses.logic import exports
from lifeline.theses.models import ExpectedStudent, Thesis
from lifeline.theses.tests.conftest import make_pdf, metadata, upload

pytestmark = pytest.mark.django_db


def _approved(library: Any, user: Any, reviewer: Any, **over: Any) -> Thesis:
    version = services.submit(library, user, metadata(**over), upload(make_pdf()))
    services.run_checks(version)
    services.approve(version.thesis, reviewer)
    return Thesis.objects.get(pk=version.thesis_id)


def _sheet(content: bytes) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return list(wb.worksheets[0].iter_rows(values_only=True))


def test_cleared_list_xlsx_both_languages(
    library_a: Any, student: Any, reference_a: Any, english: Any
) -> None:
    thesis = _approved(library_a, student, reference_a)
    client = client_for(reference_a)
    rows = _sheet(b"".join([client.get(reverse("theses:cleared", args=["nefu"])).content]))
    assert rows[0][0] == "学号" and rows[1][0] == thesis.student_number
    client.cookies["lifeline_lang"] = "en"
    rows = _sheet(client.get(reverse("theses:cleared", args=["nefu"])).content)
    assert rows[0][0] == "Student number"
    assert str(rows[1][7]).startswith("NEFU-")


def test_calis_export_leaves_out_embargoed(
    library_a: Any, student: Any, reference_a: Any, patron_a: Any
) -> None:
    _approved(library_a, student, reference_a)
    from django.contrib.auth import get_user_model

    from lifeline.core.models import Patron

    other = get_user_model().objects.create_user("grad2", "g2@example.edu", "x" * 12)
    Patron.objects.create(user=other, library=library_a)
    ExpectedStudent.objects.create(
        library=library_a,
        student_number="2017110999",
        name="李明",
        college="林学院",
        degree_level="doctor",
        degree_type="academic",
        discipline_code="0907",
        year=2020,
        user=other,
    )
    _approved(
        library_a, other, reference_a, confidentiality="internal", release_date=dt.date(2099, 1, 1)
    )
    r = client_for(reference_a).get(reverse("theses:calis", args=["nefu", "csv"]))
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == exports.CALIS_HEADER
    assert len(rows) == 2 and rows[1][3] == "2017110123"
    r = client_for(reference_a).get(reverse("theses:calis", args=["nefu", "xlsx"]))
    assert len(_sheet(r.content)) == 2


def test_statistics_page_and_xlsx(library_a: Any, student: Any, reference_a: Any) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf(author="王五")))
    services.run_checks(version)
    services.return_thesis(version.thesis, reference_a, ["cover"], "封面作者不符")
    second = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(second)
    services.approve(second.thesis, reference_a)
    data = exports.stats(library_a, 2020)
    assert data["rows"][0]["submitted"] == 1 and data["rows"][0]["returned"] == 1
    assert data["rows"][0]["approved"] == 1
    client = client_for(reference_a)
    r = client.get(reverse("theses:statistics", args=["nefu"]))
    assert r.status_code == 200 and "<svg" in r.content.decode()
    r = client.get(reverse("theses:statistics", args=["nefu"]) + "?format=xlsx")
    rows = _sheet(r.content)
    assert rows[1][0] == "林学院"


def test_queue_and_api_query_counts(
    library_a: Any, student: Any, reference_a: Any, django_assert_max_num_queries: Any
) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(version)
    client = client_for(reference_a)
    with django_assert_max_num_queries(20):
        r = client.get(reverse("theses:queue", args=["nefu"]) + "?college=林学院")
    assert r.status_code == 200 and 'name="ids"' in r.content.decode()
    with django_assert_max_num_queries(12):
        r = client.get("/api/theses/theses/")
    assert r.status_code == 200


def test_batch_approve_only_those_with_checks_passed(
    library_a: Any, student: Any, reference_a: Any
) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(version)
    client = client_for(reference_a)
    r = client.post(reverse("theses:batch_approve", args=["nefu"]), {"ids": [version.thesis_id]})
    assert r.status_code == 302
    assert Thesis.objects.get().status == "approved"
    done, skipped = services.batch_approve(library_a, [version.thesis_id], reference_a)
    assert (done, skipped) == (0, 1)


def test_staff_dashboard_panel(library_a: Any, student: Any, reference_a: Any) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(version)
    r = client_for(reference_a).get(reverse("core:dashboard"))
    assert r.status_code == 200
    assert reverse("theses:queue", args=["nefu"]) + "?status=waiting" in r.content.decode()
