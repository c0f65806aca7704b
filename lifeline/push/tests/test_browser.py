"""A phone-sized walk of push (headless Chromium): a patron subscribes (double opt-in: the
confirmation page's button, not the link alone, confirms), a librarian writes and publishes an
announcement on a phone, the patron sees it on the news page and gets it by e-mail, then
unsubscribes through the link every message carries."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, PHONE, launch_chromium, signed_in_context
from lifeline.core.models import Notification
from lifeline.push.logic import subscriptions
from lifeline.push.models import Announcement, Subscriber

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.mark.browser
def test_subscribe_publish_read_unsubscribe_on_a_phone(
    transactional_db: Any, live_server: Any, library_a: Any, reference_a: Any
) -> None:
    from playwright.sync_api import sync_playwright

    staff_client = Client()
    staff_client.force_login(reference_a)
    session = staff_client.cookies[settings.SESSION_COOKIE_NAME].value
    code = library_a.code
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            patron = browser.new_context(**PHONE).new_page()
            patron.set_default_timeout(BROWSER_TIMEOUT_MS)
            patron.goto(f"{live_server.url}/lib/{code}/news/subscribe/")
            patron.fill("input[name=email]", "Reader@Example.edu")
            patron.click("form button.btn")
            patron.wait_for_selector("p.card")
            sub = Subscriber.objects.get(library=library_a)
            assert not sub.is_active  # nothing before the owner confirms
            note = Notification.objects.get(kind="push.confirm")
            link = next(w for w in note.body.split() if "/push/-/confirm/" in w)
            patron.goto(live_server.url + _path(link))
            sub.refresh_from_db()
            assert not sub.is_active  # opening the link (as a mail scanner would) is not enough
            patron.click("form button.btn")
            patron.wait_for_load_state()
            sub.refresh_from_db()
            assert sub.is_active

            staff_context = signed_in_context(browser, session, live_server.url)
            staff = staff_context.new_page()
            staff.set_default_timeout(BROWSER_TIMEOUT_MS)
            staff.goto(f"{live_server.url}/push/{code}/new/")
            staff.select_option("select[name=topic]", "guide")
            staff.fill("input[name=title]", "校外访问指南")
            staff.fill("textarea[name=body]", "<p>通过 CARSI 登录。</p><script>alert(1)</script>")
            staff.click("form button.btn")
            staff.wait_for_selector("button[name=action][value=publish]")
            staff.click("button[name=action][value=publish]")
            staff.wait_for_selector("button[name=action][value=expired]")
            ann = Announcement.objects.get(library=library_a)
            assert ann.state == "published" and "<script" not in ann.body

            patron.goto(f"{live_server.url}/lib/{code}/news/")
            patron.click("text=校外访问指南")
            patron.wait_for_selector("text=通过 CARSI 登录。")
            mail = Notification.objects.filter(channel="email").exclude(kind="push.confirm")
            assert mail.count() == 1 and mail.get().recipients == ["reader@example.edu"]

            patron.goto(live_server.url + _path(subscriptions.unsubscribe_url(sub.pk)))
            sub.refresh_from_db()
            assert sub.is_active  # the GET asks; only the button unsubscribes
            patron.click("form button.btn")
            patron.wait_for_load_state()
            sub.refresh_from_db()
            assert not sub.is_active and sub.unsubscribed_at is not None
        finally:
            browser.close()
