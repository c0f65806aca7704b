"""A leader activates the plan from a phone, ticks a task, escalates, stands down, reviews."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, launch_chromium, signed_in_context
from lifeline.emergency.choices import EventStatus, Level, TaskStatus
from lifeline.emergency.models import Event
from lifeline.emergency.services import install_default_plan

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
def test_leader_activates_on_a_phone(
    transactional_db: Any, live_server: Any, library_a: Any, leader_a: Any, tmp_path: Any
) -> None:
    from playwright.sync_api import sync_playwright

    install_default_plan(library_a)
    client = Client()
    client.force_login(leader_a)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = signed_in_context(browser, session, live_server.url)
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.goto(f"{live_server.url}/emergency/{library_a.code}/")
            page.click("text=启动预案")
            page.select_option("#id_category", "public_health")
            page.select_option("#id_level", str(Level.II))
            page.fill("#id_scope", "全校师生")
            page.fill("#id_reason", "新冠疫情：停课不停学")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            page.click("#declare-form button[type=submit]")
            page.wait_for_selector("text=发布校外访问指南")
            assert "已启动应急响应" in page.content()
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            # Tick the first task off; the progress line follows.
            page.locator(".task button[value=done]").first.click()
            page.wait_for_selector("#progress:has-text('已完成 1 项')")
            # Kept for a human look at the phone layout (pytest's tmp_path).
            page.screenshot(path=str(tmp_path / "board.png"), full_page=False)
            # Escalate to level I, then stand down, and open the review.
            page.select_option("#id_level", str(Level.I))
            page.click("button:has-text('调整级别')")
            page.wait_for_selector("text=启动 24 小时应急值守")
            page.fill("#id_note", "疫情缓解")
            page.click("button:has-text('解除响应')")
            page.wait_for_selector("h1:has-text('事后评估')")
            assert page.locator(".chart svg").count() == 1
            page.screenshot(path=str(tmp_path / "review.png"), full_page=False)
            # The same page in English.
            page.goto(page.url + "?lang=en")
            page.wait_for_selector("h1:has-text('After-action review')")
        finally:
            browser.close()
    event = Event.objects.get()
    assert event.status == EventStatus.CLOSED and event.level == Level.I
    assert event.tasks.filter(status=TaskStatus.DONE).count() == 1
