"""The usage dashboard: charts and tables per resource, vendor, category and month, the
comparison with a year earlier, the XLSX of every table, exchange rates — in both languages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lifeline.analytics.charts import figures
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import ExchangeRate
from lifeline.conftest import client_for
from lifeline.registry.models import Category, Resource, Vendor

pytestmark = pytest.mark.django_db

YEAR = {"start": "2022-01-01", "end": "2022-12-31"}


@pytest.fixture
def platform_1(library_a: Any, counter_data: Path) -> Resource:
    vendor = Vendor.objects.create(library=library_a, key="v", name="知网公司", name_en="CNKI Co.")
    category = Category.objects.create(library=library_a, language="zh", name="中文数据库")
    resource = Resource.objects.create(
        library=library_a,
        key="p1",
        name="Platform 1",
        vendor=vendor,
        category=category,
        price=Decimal(12_000),
        currency="CNY",
    )
    Resource.objects.create(library=library_a, key="idle", name="Idle database")
    import_file(library_a, (counter_data / "r51" / "PR_sample_r51.json").read_bytes(), "pr.json")
    return resource


def test_figures_per_vendor_category_and_month(library_a: Any, platform_1: Resource) -> None:
    data = figures(library_a, dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    total = data["total"]
    assert total > 0
    # Bilingual names follow the active language (English in domain tests, see conftest).
    assert data["vendors"] == [("CNKI Co.", total)]
    assert data["categories"] == [("中文数据库", total)]
    assert [(str(r), n) for r, n in data["ranked"]] == [("Platform 1", total)]
    assert len(data["months"]) == 12 and sum(c for _m, c, _l in data["months"]) == total


def test_dashboard_tables_and_every_sheet_in_both_languages(
    librarian_a: Any, platform_1: Resource
) -> None:
    client = client_for(librarian_a)
    page = client.get(reverse("analytics:charts"), YEAR | {"resource": platform_1.pk})
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="resource-chart"' in body and body.count("<svg") == 5
    for heading in ("按月", "按供应商", "按类别", "与上年同期对比", "单次使用成本"):
        assert heading in body
    assert "2022-07" in body and "知网公司" in body and "中文数据库" in body

    zh = load_workbook(
        io.BytesIO(client.get(reverse("analytics:charts"), YEAR | {"format": "xlsx"}).content)
    )
    assert "按供应商" in zh.sheetnames and "按类别" in zh.sheetnames
    en_response = client.get(
        reverse("analytics:charts"),
        YEAR | {"format": "xlsx", "lang": "en", "resource": platform_1.pk},
    )
    en = load_workbook(io.BytesIO(en_response.content))
    assert en.sheetnames == [
        "Cost per use",
        "Per month",
        "Per resource",
        "Per vendor",
        "Per category",
        "Against a year earlier",
        "Requested, not held",
        "One resource",
    ]
    total = figures(platform_1.library, dt.date(2022, 1, 1), dt.date(2022, 12, 31))["total"]
    assert en["Per vendor"]["A2"].value == "CNKI Co." and en["Per vendor"]["B2"].value == total
    assert en["Per resource"]["A2"].value == "Platform 1"
    assert sum(row[1] for row in en["Per month"].iter_rows(min_row=2, values_only=True)) == total
    assert sum(row[1] for row in en["One resource"].iter_rows(min_row=2, values_only=True)) == total
    year_earlier = {r[0]: r for r in en["Against a year earlier"].iter_rows(values_only=True)}
    assert year_earlier["Platform 1"][1] == total and year_earlier["Platform 1"][2] == 0
    english = client.get(reverse("analytics:charts"), YEAR).content.decode()
    assert "Per vendor" in english and "Against the same period a year earlier" in english


def test_emergency_periods_are_offered(
    librarian_a: Any, leader_a: Any, library_a: Any, platform_1: Resource
) -> None:
    from lifeline.emergency.models import Event
    from lifeline.emergency.services import declare, install_default_plan

    plan = install_default_plan(library_a)
    declared = dt.datetime(2022, 3, 1, 9, tzinfo=dt.UTC)
    event = declare(
        library_a,
        plan,
        category=plan.category_list[0],
        level=min(lvl for lvl, _label in Event._meta.get_field("level").choices),
        scope="campus",
        reason="flood",
        user=leader_a,
        now=declared,
    )
    Event.objects.filter(pk=event.pk).update(
        closed_at=dt.datetime(2022, 3, 31, 9, tzinfo=dt.UTC), status="closed"
    )
    client = client_for(librarian_a)
    body = client.get(reverse("analytics:charts"), YEAR).content.decode()
    # A link to the emergency's own dates, which the page then compares with a year earlier.
    assert "start=2022-03-01&amp;end=2022-03-31" in body


def test_exchange_rates_page(librarian_a: Any, tech_a: Any, library_a: Any) -> None:
    client = client_for(librarian_a)
    client.cookies["lifeline_lang"] = "en"
    url = reverse("analytics:rates")
    form = {"currency": "USD", "valid_from": "2022-01-01", "cny_per_unit": "6.35"}
    assert client.post(url, form).status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.library, rate.cny_per_unit) == (library_a, Decimal("6.35"))
    again = client.post(url, form)
    assert again.status_code == 400 and "already a rate" in again.content.decode()
    body = client.get(url).content.decode()
    assert "US dollar" in body and "6.35" in body and 'value="CNY"' not in body
    tech = client_for(tech_a)
    assert tech.get(url).status_code == 200
    assert tech.post(url, {"delete": rate.pk}).status_code == 403
    assert client.post(url, {"delete": rate.pk}).status_code == 302
    assert not ExchangeRate.objects.exists()
    assert "汇率" in client_for(librarian_a).get(url).content.decode()


def test_renewal_exports_follow_the_language(
    librarian_a: Any, library_a: Any, platform_1: Resource
) -> None:
    client = client_for(librarian_a)
    params = {"cut": "20", "denial_weight": "0.5"} | YEAR

    def plan_xlsx(extra: dict[str, str]) -> Any:
        # The plan is a background job (issue 16, part 3): its outcome is the download.
        done = client.post(
            reverse("analytics:renewal"), params | {"format": "xlsx"} | extra, follow=True
        )
        return load_workbook(io.BytesIO(b"".join(done.streaming_content)))

    zh = plan_xlsx({})
    client.cookies["lifeline_lang"] = "en"
    en = plan_xlsx({})
    assert zh.sheetnames == ["续订方案", "汇总"] or zh.sheetnames[0] == "续订方案"
    assert en.sheetnames == ["Renewal plan", "Summary"]
    assert en.worksheets[0]["B2"].value in {"Keep", "Drop"}
