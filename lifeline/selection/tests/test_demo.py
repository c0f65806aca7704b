"""The demo loads the seed's three 2020 campaigns: the statistics show the case paper's figures."""

from __future__ import annotations

import datetime as dt

import pytest

from lifeline.core.models import Library
from lifeline.selection import demo
from lifeline.selection.choices import CampaignStatus
from lifeline.selection.logic.stats import summary
from lifeline.selection.models import Campaign

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
