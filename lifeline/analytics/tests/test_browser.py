"""A librarian walks through the analytics pages on a phone-sized screen (headless Chromium
through Playwright): uploads the official COUNTER TR sample, sees the dashboard charts, plans a
20 % budget cut and downloads the plan as XLSX — in Chinese, then again in English."""

from __future__ import annotations

import io
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook

from lifeline.analytics.models import TitleHolding, UsageReport
from lifeline.conftest import BROWSER_TIMEOUT_MS, PHONE, launch_chromium, signed_in_context
from lifeline.registry.models import KbartTitle, Resource

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The words the pages show, looked up in the merged catalogues as Django does for a request.
ENGLISH = {
    "import": "Import",
    "plan": "Make the plan",
    "download": "Download XLSX",
    "month_chart": "Use per month",
    "keep": "Keep",
    "sheet": "Renewal plan",
    "resource": "Resource",
}


def words(lang: str) -> dict[str, str]:
    from django.utils import translation

    with translation.override(lang):
        return {k: translation.gettext(v) for k, v in ENGLISH.items()}


def registry(library: Any) -> None:
    """The platform of the sample as a resource, and two packages sharing a title by KBART."""
    Resource.objects.create(
        library=library, key="p1", name="Platform 1", price=Decimal(300_000), currency="CNY"
    )
    a = Resource.objects.create(
        library=library, key="a", name="Package A", price=Decimal(60_000), currency="CNY"
    )
    b = Resource.objects.create(
        library=library, key="b", name="Package B", price=Decimal(50_000), currency="CNY"
    )
    KbartTitle.objects.create(
        resource=a, publication_title="Title 2", online_identifier="1234-1234"
    )
    KbartTitle.objects.create(
        resource=a, publication_title="Title 3", online_identifier="1234-4321"
    )
    KbartTitle.objects.create(
        resource=b, publication_title="Title 2", online_identifier="1234-1234"
    )


@pytest.mark.browser
def test_librarian_walks_through_analytics_on_a_phone(
    transactional_db: Any,
    live_server: Any,
    library_a: Any,
    librarian_a: Any,
    counter_data: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    registry(library_a)
    sample = counter_data / "r51" / "TR_sample_r51.tsv"
    client = Client()
    client.force_login(librarian_a)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    base = live_server.url
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = signed_in_context(browser, session, base, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            for lang in ("zh-hans", "en"):
                shown = words(lang)
                if lang == "zh-hans":  # really Chinese, not the English msgids
                    assert (shown["plan"], shown["keep"]) == ("计算方案", "保留")
                # The language switch is remembered in a cookie for the pages that follow.
                page.goto(f"{base}/analytics/?lang={lang}")
                page.set_input_files("#id_file", str(sample))
                page.click(f"form.card button:has-text('{shown['import']}')")
                page.wait_for_selector("h1:has-text('TR')")
                assert "Platform 1" in page.content()

                page.goto(f"{base}/analytics/charts/?start=2022-01-01&end=2022-12-31")
                month_chart = page.locator("figure.chart svg").first
                expect(month_chart).to_be_visible()
                assert shown["month_chart"] in page.content()
                assert page.locator("figure.chart svg").count() >= 3
                assert (
                    page.evaluate("document.scrollingElement.scrollWidth")
                    <= PHONE["viewport"]["width"]
                )

                page.goto(f"{base}/analytics/renewal/")
                page.fill("#id_cut", "20")
                page.fill("#id_start", "2022-01-01")
                page.fill("#id_end", "2022-12-31")
                page.click(f"form.card button:has-text('{shown['plan']}')")
                expect(page.locator("span.badge.green").first).to_have_text(shown["keep"])
                with page.expect_download() as download_info:
                    page.click(f"button:has-text('{shown['download']}')")
                target = tmp_path / f"plan-{lang}.xlsx"
                download_info.value.save_as(target)
                book = load_workbook(io.BytesIO(target.read_bytes()))
                sheet = book.worksheets[0]
                assert sheet.title == shown["sheet"] and sheet["A1"].value == shown["resource"]
                kept = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
                assert kept == {"Platform 1", "Package A", "Package B"}
        finally:
            browser.close()
    # The second upload replaced the first (no double count) and matched the titles.
    assert UsageReport.objects.count() == 1
    assert TitleHolding.objects.count() == 3
