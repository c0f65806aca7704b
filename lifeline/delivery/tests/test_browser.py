"""A patron files a request on a phone-sized screen (headless Chromium through Playwright)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, launch_chromium, signed_in_context
from lifeline.delivery.models import DeliveryRequest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
def test_patron_files_a_request_on_a_phone(
    transactional_db: Any, live_server: Any, library_a: Any, patron_a: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    client = Client()
    client.force_login(patron_a)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = signed_in_context(browser, session, live_server.url)
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.goto(f"{live_server.url}/delivery/{library_a.code}/new/")
            page.fill("#id_citation", "张三, 李四. 森林碳汇研究[J]. 林业科学, 2020, 12(3): 45-52.")
            page.click("button:has-text('识别参考文献')")
            # Playwright's expect polls from its own world: the page's CSP (no eval) stays on.
            expect(page.locator("#id_title")).to_have_value("森林碳汇研究", timeout=15_000)
            assert page.input_value("#id_source") == "林业科学"
            # Nothing sticks out sideways on a phone.
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            page.click("button:has-text('提交请求')")
            page.wait_for_selector("h1:has-text('森林碳汇研究')")
            assert "已提交" in page.content()
        finally:
            browser.close()
    req = DeliveryRequest.objects.get()
    assert (req.title, req.patron_id, req.year, req.issue) == (
        "森林碳汇研究",
        patron_a.pk,
        2020,
        "3",
    )
