"""A graduate student on a phone: names herself, submits, sees two checks fail, uploads a
corrected version, and after approval downloads her receipt, which verifies at the QR code's
address (headless Chromium through Playwright)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lifeline.conftest import BROWSER_TIMEOUT_MS, PHONE, launch_chromium, signed_in_context
from lifeline.theses import services
from lifeline.theses.models import Thesis
from lifeline.theses.tests.conftest import AUTHOR, TITLE, TITLE_EN, make_pdf

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _fill(page: Any, pdf: bytes) -> None:
    page.fill("#id_title", TITLE)
    page.fill("#id_title_en", TITLE_EN)
    page.fill("#id_supervisor_en", "Wang Zhigang")
    page.fill("#id_keywords", "城市森林；碳汇")
    page.fill("#id_keywords_en", "urban forest; carbon sink")
    page.fill("#id_abstract", "本文测定了哈尔滨城市森林的碳储量。")
    page.fill("#id_abstract_en", "We measured the carbon storage of Harbin's urban forests.")
    page.set_input_files(
        "#id_pdf", files=[{"name": "thesis.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    page.check("#id_agreement")


@pytest.mark.browser
def test_student_from_submission_to_printed_receipt_on_a_phone(
    transactional_db: Any,
    live_server: Any,
    library_a: Any,
    patron_a: Any,
    expected: Any,
    reference_a: Any,
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
            page.goto(f"{live_server.url}/theses/{library_a.code}/")
            page.fill("#id_student_number", expected.student_number)
            page.fill("#id_name", AUTHOR)
            page.click("button[type=submit]:has-text('继续')")
            page.wait_for_selector("#id_pdf")
            assert page.input_value("#id_author") == AUTHOR  # filled from the list
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            _fill(page, make_pdf(author="张伟", embed=False))
            page.click("form.card button[type=submit]")
            expect(page.locator("[data-check=cover_author]")).to_be_visible()
            expect(page.locator("[data-check=fonts]")).to_be_visible()
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            page.click("a:has-text('上传修改后的版本')")
            page.wait_for_selector("#id_pdf")
            assert page.input_value("#id_title") == TITLE  # the first version's metadata
            _fill(page, make_pdf())
            page.click("form.card button[type=submit]")
            expect(page.locator("#thesis-status")).to_have_text("待审核")

            thesis = Thesis.objects.get()
            services.approve(thesis, reference_a)
            page.reload()
            link = page.locator("#receipt a.btn")
            expect(link).to_be_visible()
            response = page.request.get(live_server.url + str(link.get_attribute("href")))
            assert response.ok and response.body().startswith(b"%PDF")

            receipt = services.current_receipt(thesis)
            assert receipt is not None
            stranger = browser.new_context(**PHONE)
            check = stranger.new_page()
            check.goto(live_server.url + services.verify_path(receipt.serial, receipt.signature))
            expect(check.locator("#receipt-state")).to_have_attribute("data-state", "valid")
            assert expected.student_number in check.content()
            assert check.evaluate("document.scrollingElement.scrollWidth") <= 390
        finally:
            browser.close()
