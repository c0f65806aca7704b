"""A patron asks for a citation report from home on a phone, and then checks the issued report
through its public verification URL (headless Chromium through Playwright)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, launch_chromium, make_staff, signed_in_context
from lifeline.core.choices import Role
from lifeline.research.logic import citation, importer
from lifeline.research.models import VerificationRequest
from lifeline.research.tests.conftest import CITING, DATA

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
def test_patron_requests_a_report_from_home(
    transactional_db: Any, live_server: Any, library_a: Any, patron_a: Any, reference_a: Any
) -> None:
    from playwright.sync_api import sync_playwright

    importer.import_records(library_a, (DATA / "wos-plaintext-wok-tethne.txt").read_bytes())
    importer.import_records(library_a, CITING.encode())
    client = Client()
    client.force_login(patron_a)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = signed_in_context(browser, session, live_server.url)
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.goto(f"{live_server.url}/research/{library_a.code}/request/")
            page.fill("#id_papers", "10.1007/s10646-013-1042-4\n10.1016/j.ecolind.2011.07.024")
            page.select_option("#id_purpose", "promotion")
            page.check("input[name=databases][value=wos]")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            page.click("button:has-text('提交')")
            page.wait_for_selector("text=您的申请已收到。")
            req = VerificationRequest.objects.get()
            citation.prepare(req, reference_a)
            citation.issue(req, make_staff("reviewer_a", library_a, Role.SUBJECT))
            req.refresh_from_db()
            page.goto(f"{live_server.url}{citation.verification_path(req)}")
            assert "真实" in page.content() and req.serial in page.content()
            page.goto(
                f"{live_server.url}/research/verify/{library_a.code}/{req.serial}/{'A' * 86}/"
            )
            assert "非真实" in page.content()
        finally:
            browser.close()
