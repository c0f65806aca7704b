"""The demo: the seed's 2020 outreach through the app's own functions, and its figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from lifeline.conftest import client_for
from lifeline.core.choices import PatronCategory
from lifeline.core.models import Patron
from lifeline.outreach import demo
from lifeline.outreach.logic import report
from lifeline.outreach.models import Attempt, Booking, Enrolment, Event


def test_demo_and_report(library_a: Any, reference_a: Any, librarian_b: Any) -> None:
    for name in ("student", "teacher"):
        user = get_user_model().objects.create_user(name, f"{name}@example.edu", "x")
        Patron.objects.create(user=user, library=library_a, category=PatronCategory.STUDENT)
    today = dt.date.today()
    demo.load(library_a, today)
    demo.load(library_a, today)  # idempotent
    figures = report.counts(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert figures["events"] == 12 > 10
    assert figures["class_hours_by_course"]["科技信息检索"] + figures["class_hours_by_course"][
        "专利申请实务"
    ] == Decimal(288)
    assert figures["class_hours_by_audience"]["freshmen"] == Decimal(65)
    assert figures["quiz_takers"] == 2 and figures["attended"] == 24
    assert Attempt.objects.filter(score__isnull=False).count() == 4
    assert Booking.objects.count() == 1
    assert Enrolment.objects.filter(completed_at__isnull=False).count() == 1
    assert Event.objects.filter(library=library_a, series__isnull=False).count() == 3
    page = client_for(reference_a).get("/outreach/nefu/report/?start=2020-01-01&end=2020-12-31")
    assert page.status_code == 200 and page.context["figures"]["events"] == 12
    assert client_for(librarian_b).get("/outreach/nefu/report/").status_code == 403
    assert client_for(reference_a).get("/outreach/nefu/report/?start=bad").status_code == 200


def test_service_report_counts(library_a: Any, library_b: Any) -> None:
    from lifeline.core.counts import collect
    from lifeline.outreach.counts import counts

    for name in ("student", "teacher"):
        user = get_user_model().objects.create_user(name, f"{name}@example.edu", "x")
        Patron.objects.create(user=user, library=library_a, category=PatronCategory.STUDENT)
    demo.load(library_a, dt.date.today())
    year = (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    got = {(c.service_key, c.measure): c.figure for c in counts(library_a, *year)}
    assert got[("literacy", "class_hours")] == 288  # the seed's two courses
    assert got[("literacy", "freshman_hours")] == 65
    assert got[("literacy", "trainings")] == 4
    assert got[("reading_promotion", "events")] == 8 and got[("reading_promotion", "events")] > 0
    # 8 events × 2 patrons checked in, 2 quiz takers.
    assert got[("reading_promotion", "participants")] == 18
    assert {c.service_key for c in counts(library_a, *year)} <= {
        "reading_promotion",
        "literacy",
        "rooms",
    }
    # Through the report's contract; library B has nothing of A's.
    mine = [c for c in collect(library_a, *year) if c.service_key == "literacy"]
    assert any(c.figure == 288 for c in mine)
    other = {(c.service_key, c.measure): c.figure for c in counts(library_b, *year)}
    assert other[("literacy", "class_hours")] == 0 and other[("rooms", "bookings")] == 0


def test_statistics_workbook_and_charts(library_a: Any, reference_a: Any, librarian_b: Any) -> None:
    import io

    from openpyxl import load_workbook

    for name in ("student", "teacher"):
        user = get_user_model().objects.create_user(name, f"{name}@example.edu", "x")
        Patron.objects.create(user=user, library=library_a, category=PatronCategory.STUDENT)
    demo.load(library_a, dt.date.today())
    staff = client_for(reference_a)
    page = staff.get("/outreach/nefu/report/?start=2020-01-01&end=2020-12-31")
    assert page.content.decode().count("<svg") >= 2
    data = staff.get("/outreach/nefu/report.xlsx?start=2020-01-01&end=2020-12-31")
    assert data.status_code == 200
    book = load_workbook(io.BytesIO(data.content), read_only=True)
    courses = list(book["课程"].iter_rows(values_only=True))
    assert sum(r[4] for r in courses[1:]) == 288 + 65
    assert len(list(book["活动"].iter_rows())) == 1 + 12  # the header and 2020's sessions
    english = staff.get("/outreach/nefu/report.xlsx?start=2020-01-01&end=2020-12-31&lang=en")
    assert "Courses" in load_workbook(io.BytesIO(english.content), read_only=True).sheetnames
    assert client_for(librarian_b).get("/outreach/nefu/report.xlsx").status_code == 403
    assert staff.get("/outreach/nefu/staff/").status_code == 200
