"""Fixtures of the delivery tests: a held journal, suppliers, a PDF and a clock inside service
hours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lifeline.delivery.choices import SupplierKind
from lifeline.delivery.models import Supplier
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, KbartTitle, Resource

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def monday_10() -> dt.datetime:
    """Monday 2020-03-02 10:00 in Shanghai: inside the 08:00–22:00 service hours."""
    return timezone.make_aware(dt.datetime(2020, 3, 2, 10, 0), timezone.get_current_timezone())


@pytest.fixture
def held_journal(library_a: Any) -> KbartTitle:
    """Library A holds Nature (ISSN 0028-0836) from 2000 on, through a CARSI route."""
    resource = Resource.objects.create(
        library=library_a, key="nature", name="Nature 期刊", homepage="https://www.nature.com/"
    )
    AccessRoute.objects.create(
        resource=resource, kind=RouteKind.OPEN_ACCESS, url="https://www.nature.com/nature/"
    )
    return KbartTitle.objects.create(
        resource=resource,
        publication_title="Nature",
        print_identifier="0028-0836",
        online_identifier="1476-4687",
        date_first_issue_online=dt.date(2000, 1, 1),
        title_url="https://www.nature.com/nature/",
    )


@pytest.fixture
def outside_supplier(library_a: Any) -> Supplier:
    return Supplier.objects.create(library=library_a, name="WorldLib", kind=SupplierKind.OUTSIDE)


@pytest.fixture
def partner_supplier(library_a: Any, library_b: Any) -> Supplier:
    return Supplier.objects.create(
        library=library_a, name="哈工大图书馆", kind=SupplierKind.PARTNER, partner=library_b
    )


def pdf(name: str = "article.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


ARTICLE = {
    "doc_type": "foreign_article",
    "title": "Deep learning for trees",
    "authors": "Smith J",
    "source": "Forest Ecology",
    "year": 2019,
    "volume": "12",
    "issue": "3",
    "pages": "45-52",
    "issn": "0378-1127",
}


@pytest.fixture
def today_10() -> dt.datetime:
    """10:00 yesterday in Shanghai. Pages check links and expiry against the real clock, so the
    scenario must lie in the past at any hour: "today at 10:00" is still ahead before 10:00 and
    an expiry set to a delivery at 13:00 would not have come yet."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return timezone.make_aware(
        dt.datetime.combine(yesterday, dt.time(10)), timezone.get_current_timezone()
    )


@pytest.fixture(autouse=True)
def english_messages() -> Any:
    """Domain messages are asserted in English; pages choose their language per request (Chinese
    first).
    """
    from django.utils import translation

    with translation.override("en"):
        yield
