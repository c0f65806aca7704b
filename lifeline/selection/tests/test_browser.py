"""A patron marks titles on a phone-sized screen, with JavaScript off (headless Chromium)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from lifeline.conftest import BROWSER_TIMEOUT_MS, PHONE, launch_chromium
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus
from lifeline.selection.models import Campaign, Vote
from lifeline.selection.tests.conftest import CNMARC_XML

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
def test_patron_votes_on_a_phone_without_js(
    transactional_db: Any, live_server: Any, library_a: Any, patron_a: Any
) -> None:
    from playwright.sync_api import sync_playwright

    catalogue = services.import_catalogue(library_a, CNMARC_XML.read_bytes(), name="书商书目")
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        library=library_a,
        name="春季云端选书",
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=2),
        status=CampaignStatus.OPEN,
        budget=Decimal("1000"),
    )
    campaign.catalogues.set([catalogue])
    client = Client()
    client.force_login(patron_a)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(
                **PHONE,
                java_script_enabled=False,
            )
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.goto(f"{live_server.url}/selection/{library_a.code}/")
            page.click("a:has-text('春季云端选书')")
            page.click("nav.letters a:text-is('F')")
            page.wait_for_selector("h2:has-text('经济')")
            card = page.locator(".title-card", has_text="中国发展报告").first
            card.locator("select[name=reason]").select_option("research")
            card.locator("input[name=note]").fill("宏观经济课程")
            card.locator("button:has-text('选这本')").click()
            page.wait_for_selector("text=已选上，谢谢。")
            assert "cls=F" in page.url  # back where the patron was
            assert (
                page.locator(".title-card", has_text="中国发展报告")
                .first.locator("text=已选")
                .count()
                >= 1
            )
            # Search in Chinese.
            page.fill("#q", "发展报告")
            page.click("form[role=search] button")
            page.wait_for_selector(".title-card:has-text('中国发展报告')")
        finally:
            browser.close()
    vote = Vote.objects.get()
    assert (vote.user_id, vote.reason, vote.note) == (patron_a.pk, "research", "宏观经济课程")
