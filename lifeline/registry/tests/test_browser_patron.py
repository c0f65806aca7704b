"""A patron on a phone walks from the A–Z list to a database's access guide (headless Chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, PHONE, launch_chromium
from lifeline.core.models import Library
from lifeline.registry.tests.pages_data import build

# Playwright's sync API runs an event loop; Django refuses ORM calls from such a thread otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


@pytest.fixture
def phone() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(
            **PHONE,
            device_scale_factor=2,
        )
        page = context.new_page()
        page.set_default_timeout(BROWSER_TIMEOUT_MS)
        errors: list[str] = []
        # A CSP violation (an inline style or script) shows up as a console error.
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.console_errors = errors
        yield page
        context.close()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_patron_finds_carsi_link_on_a_phone(
    django_db_setup: None, live_server: Any, phone: Any, library_a: Library, library_b: Library
) -> None:
    build(library_a, library_b)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = phone
    page.goto(f"{live_server.url}/lib/{library_a.code}/")
    assert page.locator("h1").inner_text() == "数据库导航 A–Z"
    assert page.locator(".res-name").count() == 4
    page.screenshot(path=str(SCREENSHOTS / "az-phone-zh.png"), full_page=True)

    # Works from home: 读秀 (campus only) drops out.
    page.locator("#id_home").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**home=on**")
    assert "读秀学术搜索" not in page.locator("ul.az").inner_text()
    assert page.locator(".res-name").count() == 3

    # Search a Chinese name.
    page.locator("#id_q").fill("知网")
    page.locator(".searchrow button").click()
    page.wait_for_url("**q=**")
    assert page.locator(".res-name").all_inner_texts() == ["中国知网"]

    page.locator(".res-name").first.click()
    page.wait_for_url("**/r/cnki/")
    first = page.locator("ol.routes > li").first
    assert first.get_attribute("data-kind") == "carsi"
    assert "校外访问首选" in first.inner_text()
    button = first.get_by_role("link", name="CARSI 一键登录")
    href = button.get_attribute("href")
    assert href.startswith(
        "https://fsso.cnki.net/Shibboleth.sso/Login?entityID=https%3A%2F%2Fidp.nefu.edu.cn"
    )
    box = button.bounding_box()
    assert box["width"] <= 390 and box["height"] >= 40  # a thumb-sized button that fits the phone
    page.screenshot(path=str(SCREENSHOTS / "resource-phone-zh.png"), full_page=True)

    # Switch to English: labels follow, and the choice sticks on the next page.
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en**")
    assert page.locator("#how").inner_text() == "How to get in from home"
    assert "Best way from home" in page.locator("ol.routes > li").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "resource-phone-en.png"), full_page=True)
    page.get_by_role("link", name="Databases A–Z").first.click()
    assert page.locator("h1").inner_text() == "Databases A–Z"
    assert (
        page.locator("label[for=id_home], .check").first.inner_text().strip() == "Works from home"
    )
    # Nothing scrolls sideways on a 390 px screen, and the CSP blocked nothing.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not [e for e in page.console_errors if "Content Security Policy" in e], (
        page.console_errors
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_dashboard_panel_on_a_phone(
    django_db_setup: None,
    live_server: Any,
    phone: Any,
    library_a: Library,
    library_b: Library,
    librarian_a: Any,
) -> None:
    build(library_a, library_b)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    client = Client()
    client.force_login(librarian_a)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    phone.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    phone.goto(f"{live_server.url}/staff/")
    panel = phone.locator("#registry-panel")
    assert "1 个数据库在校外无法访问" in panel.inner_text()
    chart = panel.locator(".chart svg")
    assert chart.count() == 1 and chart.bounding_box()["width"] <= 390
    panel.screenshot(path=str(SCREENSHOTS / "dashboard-registry-panel.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert not [e for e in phone.console_errors if "Content Security Policy" in e], (
        phone.console_errors
    )
