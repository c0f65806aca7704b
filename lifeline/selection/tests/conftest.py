"""Fixtures of the selection tests: real MARC files, an acquisitions librarian, campaigns."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymarc
import pytest
from django.utils import timezone

from lifeline.conftest import make_staff
from lifeline.core.choices import PatronCategory, Role
from lifeline.core.models import Library, Patron
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus
from lifeline.selection.models import Campaign, Catalogue, Title

DATA = Path(__file__).parent / "data"
CNMARC_XML = DATA / "cnmarcxml-sru-dp2-sample_cnmarcxml.xml"
MARC21 = DATA / "marc21-marc8-pymarc-marc.dat"
DAY = dt.date(2020, 4, 7)  # inside the spring fair, 6–10 April 2020
NOW = dt.datetime(2020, 4, 7, 10, 0, tzinfo=dt.UTC)


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def iso2709(records: list[pymarc.Record], encoding: str) -> bytes:
    """ISO 2709 in any encoding (pymarc writes UTF-8 or Latin-1 only): CNMARC from Chinese
    systems comes in GBK/GB18030, with the leader's coding position blank."""
    out = io.BytesIO()
    for record in records:
        body = b""
        directory = b""
        for field in record.fields:
            data = field.as_marc(encoding=encoding)
            directory += f"{field.tag}{len(data):04d}{len(body):05d}".encode("ascii")
            body += data
        directory += b"\x1e"
        body += b"\x1d"
        base = 24 + len(directory)
        leader = f"{base + len(body):05d}nam0 22{base:05d}   450 "
        out.write(leader.encode("ascii") + directory + body)
    return out.getvalue()


def cnmarc_records() -> list[pymarc.Record]:
    with CNMARC_XML.open("rb") as fh:
        return [r for r in pymarc.parse_xml_to_array(fh, strict=False) if r is not None]


@pytest.fixture
def acq_a(library_a: Library) -> Any:
    return make_staff("acq_a", library_a, Role.ACQUISITIONS)


@pytest.fixture
def teacher_a(library_a: Library) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        "teacher_a", "teacher_a@example.edu", "pw-teacher-1"
    )
    Patron.objects.create(
        user=user,
        library=library_a,
        category=PatronCategory.TEACHER,
        department="林学院",
        display_name="李老师",
    )
    return user


@pytest.fixture
def patron_b(library_b: Library) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("patron_b", "patron_b@example.edu", "pw-patron-b1")
    Patron.objects.create(user=user, library=library_b, display_name="王五")
    return user


@pytest.fixture
def cnmarc_catalogue(library_a: Library) -> Catalogue:
    return services.import_catalogue(
        library_a, CNMARC_XML.read_bytes(), name="书商 CNMARC", file_name=CNMARC_XML.name
    )


@pytest.fixture
def marc21_catalogue(library_a: Library) -> Catalogue:
    return services.import_catalogue(
        library_a, MARC21.read_bytes(), name="MARC 21 list", file_name=MARC21.name
    )


@pytest.fixture
def campaign(
    library_a: Library, cnmarc_catalogue: Catalogue, marc21_catalogue: Catalogue
) -> Campaign:
    c = Campaign.objects.create(
        library=library_a,
        name="2020春季云端选书",
        name_en="Spring cloud selection 2020",
        starts_on=dt.date(2020, 4, 6),
        ends_on=dt.date(2020, 4, 10),
        status=CampaignStatus.OPEN,
        budget=Decimal("500.00"),
    )
    c.catalogues.set([cnmarc_catalogue, marc21_catalogue])
    return c


ROWS = [
    ("森林生态学", "王大明 著", "中国林业出版社", "9787503717444", "S"),
    ("中国森林病虫害防治", "李小红", "中国林业出版社", "9787503700002", "S"),
    ("Quantum Mechanics", "Dirac", "Oxford Press", "9780198520115", "O"),
    ("量子力学导论", "曾谨言", "北京大学出版社", "9787301000003", "O"),
    ("ＡＩ与林业", "张三", "科学出版社", "9787030000004", "S"),
]


@pytest.fixture
def shelf(library_a: Library) -> Campaign:
    """An open campaign of 60 titles (the search and thin-vote tests)."""
    catalogue = Catalogue.objects.create(library=library_a, name="书目", source_format="sheet")
    for i, (title, author, publisher, isbn, cls) in enumerate(ROWS * 12):
        Title.objects.create(
            library=library_a, catalogue=catalogue, position=i, title=title, author=author,
            publisher=publisher, isbn=isbn if i < len(ROWS) else "", clc_class=cls,
            price=Decimal("30.00"),
        )  # fmt: skip
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        library=library_a, name="春季", starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1), status=CampaignStatus.OPEN, budget=100,
    )  # fmt: skip
    campaign.catalogues.set([catalogue])
    return campaign
