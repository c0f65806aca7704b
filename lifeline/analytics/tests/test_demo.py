from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from lifeline.analytics.models import (
    DailyUsage,
    ExchangeRate,
    LogImport,
    SushiCredential,
    UsageItem,
    UsageRecord,
    UsageReport,
    UsageSource,
)
from lifeline.analytics.services import counter_usage_between, off_campus_share
from lifeline.analytics.sushi import harvest_due
from lifeline.analytics.value import emergency_comparison
from lifeline.conftest import client_for
from lifeline.core.demo.loader import load_demo
from lifeline.registry.models import Resource

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 1)
MODELS: tuple[Any, ...] = (
    UsageReport,
    UsageRecord,
    UsageSource,
    UsageItem,
    LogImport,
    DailyUsage,
    ExchangeRate,
    SushiCredential,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_demo_shows_the_2020_closure_reloads_idempotently_and_renders(
    settings: Any, tmp_path: Any
) -> None:
    settings.DATA_DIR = tmp_path
    lib = load_demo(TODAY)["library"]
    first = _counts()
    assert first["UsageReport"] > 20 and first["UsageRecord"] > 10_000
    assert not UsageSource.objects.filter(library=lib, resource__isnull=True).exists()
    # The last full month before "today" is the last one reported.
    assert UsageRecord.objects.latest("month").month == dt.date(2026, 2, 1)
    closure = (dt.date(2020, 2, 1), dt.date(2020, 6, 30))
    now = counter_usage_between(lib, *closure)
    before = counter_usage_between(lib, dt.date(2019, 2, 1), dt.date(2019, 6, 30))
    sd, cscd = (Resource.objects.get(library=lib, key=k).pk for k in ("sd", "cscd"))
    assert now[sd] > 1.2 * before[sd]  # reached from home through CARSI and the proxy
    assert now[cscd] < 0.3 * before[cscd]  # campus IP ranges only
    share_2020 = off_campus_share(lib, *closure)
    share_2019 = off_campus_share(lib, dt.date(2019, 2, 1), dt.date(2019, 6, 30))
    assert share_2020 is not None and share_2019 is not None and share_2020 > 2 * share_2019
    assert any(r["change"] and r["change"] > 0.2 for r in emergency_comparison(lib, *closure))
    # The SUSHI account is never harvested by the monthly job.
    assert SushiCredential.objects.get(library=lib).is_active is False
    assert harvest_due() == []

    load_demo(TODAY)
    assert _counts() == first
    assert counter_usage_between(lib, *closure) == now
    _pages_show_the_figures()


def _pages_show_the_figures() -> None:
    User = get_user_model()
    client = client_for(User.objects.get(username="eres"))
    client.cookies["lifeline_lang"] = "en"
    index = client.get(reverse("analytics:index"))
    assert index.status_code == 200 and "2019-01 – 2026-02" in index.content.decode()
    charts = client.get(
        reverse("analytics:charts"), {"start": "2020-02-01", "end": "2020-06-30"}
    ).content.decode()
    assert "Off-campus share of logged full-text requests: 8" in charts
    assert "<svg" in charts and "ScienceDirect" in charts
    renewal = client.post(
        reverse("analytics:renewal"),
        {"cut": "20", "start": "2025-03-01", "end": "2026-02-28", "denial_weight": "0.5"},
        follow=True,
    )
    body = renewal.content.decode()
    assert renewal.status_code == 200 and "CNKI" in body
    assert "No USD exchange rate" not in body
    titles = client.get(reverse("analytics:titles")).content.decode()
    assert "Forest Ecology and Management" in titles and "match-rate" in titles
    rates = client.get(reverse("analytics:rates")).content.decode()
    assert "6.976200" in rates or "6.9762" in rates
    sushi = client.get(reverse("analytics:sushi")).content.decode()
    assert "sushi.example.com" in sushi
    assert client.get(reverse("analytics:logs")).status_code == 200
    # Chinese, the default language.
    zh = client_for(User.objects.get(username="leader"))
    assert "东北林业大学" in zh.get(reverse("analytics:charts")).content.decode()
    # Patrons have no analytics pages.
    patron = client_for(User.objects.get(username="student"))
    assert patron.get(reverse("analytics:charts")).status_code == 403
