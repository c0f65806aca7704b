"""The graduate school's list of expected students: all rows or none, the bad row named; only
students on it may submit."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from lifeline.conftest import client_for
from lifeline.theses import services
from lifeline.theses.logic import importer
from lifeline.theses.models import ExpectedStudent, Thesis
from lifeline.theses.tests.conftest import make_pdf, metadata, upload

pytestmark = pytest.mark.django_db

HEADER = [
    "学号",
    "姓名",
    "姓名拼音",
    "学院",
    "学位级别",
    "学位类型",
    "学科代码",
    "导师",
    "毕业年份",
]
ROWS = [
    [2017110123, "李明", "Li Ming", "林学院", "硕士", "学术学位", "090702", "王志刚", 2020],
    ["2017210456", "陈雪", "Chen Xue", "园林学院", "硕士", "专业学位", "0953", "朱逊", 2020],
    ["2016120789", "孙佳琪", "Sun Jiaqi", "林学院", "博士", "学术学位", "090701", "杨传平", 2020],
]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_fills_degree_data(library_a: Any) -> None:
    result = importer.import_expected(library_a, "2020.xlsx", xlsx(ROWS))
    assert (result.created, result.updated) == (3, 0)
    li = ExpectedStudent.objects.get(student_number="2017110123")  # a number cell, read as text
    assert (li.degree_level, li.degree_type, li.discipline_code) == ("master", "academic", "090702")
    again = importer.import_expected(library_a, "2020.xlsx", xlsx(ROWS))
    assert (again.created, again.updated) == (0, 3)


def test_one_bad_row_stops_everything_and_is_named(library_a: Any, admin_a: Any) -> None:
    bad = [*ROWS, ["2017999", "王五", "", "林学院", "学士", "学术学位", "9999", "", 2020]]
    with pytest.raises(importer.ImportFailed) as info:
        importer.import_expected(library_a, "2020.xlsx", xlsx(bad))
    assert "5" in info.value.messages[0] and "9999" in info.value.messages[0]
    assert not ExpectedStudent.objects.exists()
    # Through the page: the row is named, nothing imported, no 500.
    r = client_for(admin_a).post(
        reverse("theses:import", args=[library_a.code]),
        {"file": SimpleUploadedFile("2020.xlsx", xlsx(bad))},
        follow=True,
    )
    # The import ran in the background; its page keeps every problem (issue 16).
    assert r.status_code == 400 and "9999" in r.content.decode()
    assert not ExpectedStudent.objects.exists()


def test_missing_columns_and_not_a_workbook(library_a: Any, admin_a: Any) -> None:
    with pytest.raises(importer.ImportFailed):
        importer.import_expected(library_a, "x.xlsx", xlsx(ROWS, header=["学号", "姓名"]))
    r = client_for(admin_a).post(
        reverse("theses:import", args=[library_a.code]),
        {"file": SimpleUploadedFile("2020.xlsx", b"PK\x03\x04 not really a zip" * 20)},
    )
    # Refused by the quick checks on the page itself, before any job is queued.
    assert r.status_code == 200 and 'id="import-errors"' in r.content.decode()


def test_duplicate_student_number(library_a: Any) -> None:
    with pytest.raises(importer.ImportFailed) as info:
        importer.import_expected(library_a, "x.xlsx", xlsx([ROWS[0], ROWS[0]]))
    assert "2017110123" in info.value.messages[0]


def test_import_needs_manage(library_a: Any, reference_a: Any) -> None:
    r = client_for(reference_a).get(reverse("theses:import", args=[library_a.code]))
    assert r.status_code == 403


def test_student_not_on_the_list_cannot_submit(library_a: Any, patron_a: Any) -> None:
    importer.import_expected(library_a, "2020.xlsx", xlsx(ROWS[1:]))
    client = client_for(patron_a)
    r = client.post(
        reverse("theses:home", args=[library_a.code]),
        {"student_number": "2017110123", "name": "李明"},
    )
    assert r.status_code == 200 and "2017110123" in r.content.decode()
    assert client.get(reverse("theses:submit", args=[library_a.code])).status_code == 302
    with pytest.raises(ValidationError):
        services.submit(library_a, patron_a, metadata(), upload(make_pdf()))
    assert not Thesis.objects.exists()


def test_number_with_the_wrong_name_or_claimed_by_another(
    library_a: Any, patron_a: Any, expected: Any
) -> None:
    with pytest.raises(ValidationError):
        services.claim(library_a, patron_a, expected.student_number, "王五")
    from django.contrib.auth import get_user_model

    from lifeline.core.models import Patron

    other = get_user_model().objects.create_user("other_student", "o@example.edu", "x" * 12)
    Patron.objects.create(user=other, library=library_a)
    services.claim(library_a, other, expected.student_number, expected.name)
    with pytest.raises(ValidationError):
        services.claim(library_a, patron_a, expected.student_number, expected.name)


def test_carsi_eppn_links_the_student(library_a: Any, patron_a: Any, expected: Any) -> None:
    patron_a.patron.eppn = f"{expected.student_number}@nefu.edu.cn"
    patron_a.patron.save()
    assert services.expected_for(library_a, patron_a) == expected
