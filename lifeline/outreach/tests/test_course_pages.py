"""Courses: a class list (XLSX or CSV with Chinese headers, GBK or UTF-8) enrols all or nothing,
naming the bad line; students link on sign-in; materials are sniffed; attendance completes the
course and its certificate follows."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.outreach.choices import Audience
from lifeline.outreach.logic import courses
from lifeline.outreach.models import (
    Course,
    CourseMaterial,
    Enrolment,
    Lesson,
    QuestionBank,
    Quiz,
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def course(library_a: Library) -> Course:
    course = Course.objects.create(
        library=library_a,
        title="科技信息检索",
        title_en="Scientific information retrieval",
        audience=Audience.UNDERGRADUATES,
        term="2020春",
    )
    Lesson.objects.bulk_create(
        [
            Lesson(course=course, held_on=dt.date(2020, 3, 2) + dt.timedelta(days=7 * i),
                   class_hours=Decimal(4))
            for i in range(5)
        ]
    )  # fmt: skip
    return course


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_gbk_csv_and_xlsx(course: Course, patron_a: Any) -> None:
    gbk = "学号,姓名\r\n2019001,张三\r\npatron_a,李四\r\n".encode("gbk")
    assert courses.import_class_list(course, "csv", gbk) == (2, 1)
    assert Enrolment.objects.get(student_no="patron_a").user == patron_a
    # Again with one more: the two already there stay as they are.
    data = xlsx([["姓名", "学号"], ["张三", "2019001"], ["王五", 2019003], [None, None]])
    assert courses.import_class_list(course, "xlsx", data) == (1, 0)
    assert Enrolment.objects.filter(course=course).count() == 3
    utf8 = "\ufeff学号\t姓名\n2019004\t赵六\n".encode()
    assert courses.import_class_list(course, "csv", utf8) == (1, 0)


def test_all_or_nothing_with_the_line(course: Course) -> None:
    bad = [
        ("学号,姓名\n2019001,张三\n2019001,张三\n", 3),
        ("学号,姓名\n2019001,张三\n,李四\n", 3),
        ("学号,姓名\n2019001,张三\n<script>,x\n", 3),
        ("姓名\n张三\n", 1),
    ]
    for text, where in bad:
        with pytest.raises(ValidationError) as refused:
            courses.import_class_list(course, "csv", text.encode("gbk"))
        message = refused.value.messages[0]
        assert f"Line {where}:" in message or f"第 {where} 行" in message, message
    with pytest.raises(ValidationError):
        courses.import_class_list(course, "csv", b"\xff\xfe\x00\x81\xff" * 10)
    assert not Enrolment.objects.exists()


def test_pages(
    course: Course, patron_a: Any, reference_a: Any, patron_b: Any, librarian_b: Any
) -> None:
    staff = client_for(reference_a)
    url = f"/outreach/nefu/course/{course.pk}/manage/"
    assert staff.get(url).status_code == 200
    listing = "学号,姓名\npatron_a,甲\n2019009,乙\n".encode("gbk")
    response = staff.post(
        url, {"action": "class_list", "file": SimpleUploadedFile("名单.csv", listing)}
    )
    assert response.status_code == 302 and Enrolment.objects.count() == 2
    # A workbook that is really HTML, and a broken line: 400, nothing added.
    fake = SimpleUploadedFile("名单.xlsx", b"<html><script>alert(1)</script></html>")
    assert staff.post(url, {"action": "class_list", "file": fake}).status_code == 400
    broken = SimpleUploadedFile("b.csv", "学号\n2019010\n2019010\n".encode("gbk"))
    response = staff.post(url, {"action": "class_list", "file": broken})
    assert response.status_code == 400 and Enrolment.objects.count() == 2
    # Attendance at 4 of 5 lessons completes the course.
    mine = Enrolment.objects.get(user=patron_a)
    for lesson in course.lessons.all()[:4]:
        staff.post(url, {"action": "attendance", "lesson": lesson.pk, "present": [mine.pk, "²"]})
    mine.refresh_from_db()
    assert mine.completed_at is not None
    # Materials: a PDF link and a file whose name lies.
    pdf = SimpleUploadedFile(
        "slides.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    )
    ok = staff.post(url, {"action": "material", "kind": "slides", "title": "第一讲", "file": pdf})
    assert ok.status_code == 302
    liar = SimpleUploadedFile("slides.pdf", b"<svg onload=alert(1)></svg>")
    assert (
        staff.post(
            url, {"action": "material", "kind": "slides", "title": "x", "file": liar}
        ).status_code
        == 400
    )
    assert CourseMaterial.objects.count() == 1
    # The patron's page, materials and certificate; others are refused.
    bank = QuestionBank.objects.create(library=course.library, name="检索")
    Quiz.objects.create(
        library=course.library, bank=bank, course=course, title="期末测验",
        opens_at=dt.datetime(2020, 6, 1, tzinfo=dt.UTC),
        closes_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    me = client_for(patron_a)
    page = me.get(f"/outreach/course/{course.pk}/")
    assert page.status_code == 200 and "第一讲" in page.content.decode()
    assert "期末测验" in page.content.decode()  # the assessment, on the quiz engine
    item = CourseMaterial.objects.get()
    served = me.get(f"/outreach/material/{item.pk}/")
    assert (
        served["Content-Type"] == "application/pdf"
        and "sandbox" in served["Content-Security-Policy"]
    )
    cert = me.get(f"/outreach/c/{mine.pk}/certificate.pdf")
    assert cert.status_code == 200 and cert.content.startswith(b"%PDF")
    for outsider in (patron_b, librarian_b):
        c = client_for(outsider)
        assert c.get(f"/outreach/course/{course.pk}/").status_code == 403
        assert c.get(f"/outreach/material/{item.pk}/").status_code == 403
        assert c.get(f"/outreach/c/{mine.pk}/certificate.pdf").status_code == 404
    assert client_for(librarian_b).post(url, {"action": "class_list"}).status_code == 403
    assert client_for(patron_a).get(url).status_code == 403


def test_student_links_on_sign_in(course: Course, patron_a: Any) -> None:
    courses.import_class_list(course, "csv", b"student number,name\npatron_a,A\n")
    Enrolment.objects.update(user=None)
    assert courses.link_enrolments(patron_a, course.library_id) == 1
    assert Enrolment.objects.get().user == patron_a
