"""The demo loads the seed's three 2020 campaigns: the statistics show the case paper's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lifeline.core.models import Library, Patron
from lifeline.selection import demo
from lifeline.selection.choices import CampaignStatus
from lifeline.selection.logic import requests as logic
from lifeline.selection.logic.stats import summary
from lifeline.selection.models import Campaign, Holding

pytestmark = pytest.mark.django_db


def test_demo_shows_the_seed_figures(library_a: Library) -> None:
    today = dt.date(2026, 3, 2)
    demo.load(library_a, today)
    data = summary(library_a, 2020)
    assert data["totals"]["titles"] >= 11_000 and data["totals"]["patrons"] >= 1_800
    windows = [(r["campaign"].starts_on, r["campaign"].ends_on) for r in data["rows"]]
    assert windows == [
        (dt.date(2020, 4, 6), dt.date(2020, 4, 10)),
        (dt.date(2020, 4, 20), dt.date(2020, 4, 24)),
        (dt.date(2020, 9, 10), dt.date(2020, 9, 18)),
    ]
    assert all(r["spend"] <= r["budget"] for r in data["rows"])
    assert Campaign.objects.filter(library=library_a, status=CampaignStatus.OPEN).count() == 1


def test_service_report_counts_the_seed_year(library_a: Library, patron_a: object) -> None:
    from lifeline.core.counts import SERVICE_KEYS
    from lifeline.selection.counts import counts

    demo.load(library_a, dt.date(2026, 3, 2))
    year = {
        c.measure: c.figure for c in counts(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    }
    assert year["campaigns"] == 3
    assert year["selected"] >= 11_000 and year["by_patrons"] >= 1_800
    assert all(
        c.service_key in SERVICE_KEYS
        for c in counts(library_a, dt.date(2020, 1, 1), dt.date(2020, 1, 2))
    )
    # The spring fair and World Book Day closed in April; the autumn fair in September.
    april = {
        c.measure: c.figure for c in counts(library_a, dt.date(2020, 4, 1), dt.date(2020, 4, 30))
    }
    assert april["campaigns"] == 2 and april["selected"] == 4_120 + 2_290
    before = {
        c.measure: c.figure for c in counts(library_a, dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    }
    assert before["selected"] == 0 and before["campaigns"] == 0
    # Today's recommendations and home deliveries count on the day they are made.
    patron = Patron.objects.filter(library=library_a).first()
    assert patron is not None
    logic.recommend(library_a, patron.user, title="森林生态学", author="李景文")
    book = Holding.objects.filter(library=library_a).exclude(call_number="").first()
    assert book is not None
    logic.request_delivery(
        library_a,
        patron.user,
        holding_id=book.pk,
        title=book.title,
        recipient="张同学",
        phone="13800000000",
        address="哈尔滨市香坊区和兴路26号",
    )
    today = timezone.localdate()
    now = {c.measure: c.figure for c in counts(library_a, today, today)}
    assert now["recommendations"] == 1 and now["recommendations_arrived"] == 0
    assert now["home_deliveries"] == 1 and now["home_deliveries_received"] == 0
    assert now["campaigns"] == 0
