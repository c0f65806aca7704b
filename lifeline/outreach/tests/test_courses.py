"""Courses: enrolment, attendance, completion at four lessons in five, the certificate PDF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from lifeline.conftest import client_for
from lifeline.outreach.choices import Audience
from lifeline.outreach.logic import courses
from lifeline.outreach.models import Course, Lesson


@pytest.fixture
def course(library_a: Any) -> Course:
    course = Course.objects.create(
        library=library_a,
        title="专利申请实务",
        title_en="Patent application practice",
        audience=Audience.GRADUATES,
    )
    for i in range(5):
        Lesson.objects.create(
            course=course, held_on=dt.date(2020, 3, 4) + dt.timedelta(days=7 * i), class_hours=4
        )
    return course


def test_complete_and_certificate(course: Course, patron_a: Any, patron_a2: Any) -> None:
    enrolment = courses.enrol(course, patron_a)
    assert courses.enrol(course, patron_a).pk == enrolment.pk
    lessons = list(course.lessons.all())
    for lesson in lessons[:3]:
        courses.mark_attended(enrolment, lesson)
    assert not courses.complete(enrolment)
    client = client_for(patron_a)
    assert client.get(f"/outreach/c/{enrolment.pk}/certificate.pdf").status_code == 404
    courses.mark_attended(enrolment, lessons[3])
    assert courses.complete(enrolment)
    pdf = client.get(f"/outreach/c/{enrolment.pk}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    import fitz  # pymupdf

    text = fitz.open(stream=pdf.content, filetype="pdf")[0].get_text()
    assert "专利申请实务" in text and "16" in text and "张三" in text
    # Another patron cannot fetch it.
    assert (
        client_for(patron_a2).get(f"/outreach/c/{enrolment.pk}/certificate.pdf").status_code == 404
    )
    assert sum(lesson.class_hours for lesson in lessons) == Decimal(20)


def test_enrol_other_library(course: Course, patron_b: Any, stranger: Any) -> None:
    for user in (patron_b, stranger):
        with pytest.raises(PermissionDenied):
            courses.enrol(course, user)
