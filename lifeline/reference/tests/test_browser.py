"""A phone-sized walk of the chat and the queue (headless Chromium): a patron starts a chat, a
librarian opens it from the queue by keyboard and answers, the answer appears on the patron's
page by htmx polling without a reload; and the same chat works with JavaScript off."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, PHONE, launch_chromium, signed_in_context
from lifeline.reference.models import Ticket

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
def test_chat_and_queue_on_a_phone(
    transactional_db: Any, live_server: Any, library_a: Any, reference_a: Any
) -> None:
    from playwright.sync_api import sync_playwright

    staff_client = Client()
    staff_client.force_login(reference_a)
    session = staff_client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            patron = browser.new_context(**PHONE).new_page()
            patron.set_default_timeout(BROWSER_TIMEOUT_MS)
            patron.goto(f"{live_server.url}/lib/{library_a.code}/ask/")
            patron.fill("textarea[name=question]", "在家怎么用 VPN 访问万方？<b>急</b>")
            patron.click("button:has-text('开始在线聊天')")
            patron.wait_for_selector("#chat-messages")
            assert "<b>急</b>" in patron.inner_text("#chat-messages")  # shown as text

            staff_context = signed_in_context(browser, session, live_server.url)
            staff = staff_context.new_page()
            staff.set_default_timeout(BROWSER_TIMEOUT_MS)
            staff.goto(f"{live_server.url}/reference/{library_a.code}/")
            staff.wait_for_selector("#ticket-queue tr.current")
            staff.keyboard.press("o")  # the keyboard shortcut opens the current question
            staff.wait_for_selector("form[action$='/answer/'] textarea")
            staff.keyboard.press("r")
            staff.keyboard.type("请先登录 webvpn，再从图书馆主页进入万方。")
            staff.click("button:has-text('发送答复')")
            staff.wait_for_selector("text=答复已发送")

            # No reload: htmx polls the conversation.
            patron.wait_for_selector("#chat-messages >> text=请先登录 webvpn")

            # With JavaScript off (a locked-down in-app browser) the chat is a form and a page.
            plain = browser.new_context(**PHONE, java_script_enabled=False).new_page()
            plain.set_default_timeout(BROWSER_TIMEOUT_MS)
            plain.goto(patron.url)
            plain.fill("textarea[name=body]", "谢谢，可以了")
            plain.click("button:has-text('发送')")
            plain.wait_for_selector("#chat-messages >> text=谢谢，可以了")
        finally:
            browser.close()
    ticket = Ticket.objects.get()
    assert ticket.state == "reopened" and ticket.first_response_at is not None
