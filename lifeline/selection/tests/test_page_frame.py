"""The browse page's frame (core/frames.py): rendered once per shape and filled in per request,
the page is the one the full template render gives, byte for byte but for the per-request
tokens (the CSRF token's mask, the signed ballot), whatever the language, the reader, the
search, the page, the campaign's state or an emergency banner; and a page with flash messages
is rendered in full, messages shown."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from lifeline.conftest import client_for, make_staff
from lifeline.core import frames
from lifeline.core.choices import Role
from lifeline.emergency import context_processors as emergency
from lifeline.selection.models import Campaign, Title

pytestmark = pytest.mark.django_db


def _url(c: Campaign) -> str:
    return f"/selection/{c.library.code}/c/{c.pk}/"


def _plain(body: str) -> str:
    """The page without what differs on every request by design."""
    body = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+"', r'\1"', body)
    return re.sub(r'"b": "[^"]+"', '"b": ""', body)


def _pages(client: Client, url: str, queries: list[dict[str, Any]]) -> list[tuple[int, str]]:
    out = []
    for query in queries:
        response = client.get(url, query)
        out.append((response.status_code, _plain(response.content.decode())))
    return out


@pytest.fixture
def full_render(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Switch the frame off (the view then renders the template in full)."""

    def switch() -> None:
        monkeypatch.setattr(frames, "render_framed", lambda *args, **kwargs: None)

    return switch


def test_framed_pages_are_the_full_render(
    shelf: Campaign, patron_a: Any, library_a: Any, full_render: Any, monkeypatch: Any
) -> None:
    after = Title.objects.filter(clc_class="S").order_by("id").values_list("id", flat=True)[0]
    queries: list[dict[str, Any]] = [
        {},
        {"cls": "S"},
        {"cls": "S", "after": after, "page": 2},
        {"q": "森林"},
        {"q": '<b>"森林"</b> & 社/x', "cls": "s"},
        {"q": "9787503717444"},
        {"q": "量子力学"},
        {"cls": "S"},  # again: the frame kept from the first
    ]
    acq = make_staff("acq_frame", library_a, Role.ACQUISITIONS)
    readers = [(patron_a, "zh-hans"), (patron_a, "en"), (acq, "zh-hans")]
    framed: list[list[tuple[int, str]]] = []
    frames.forget()

    def every_page() -> list[list[tuple[int, str]]]:
        pages = []
        for user, lang in readers:
            client = client_for(user)
            client.cookies["lifeline_lang"] = lang
            pages.append(_pages(client, _url(shelf), queries))
        # Marking closed: no forms, "Marking is closed." in the heading.
        Campaign.objects.filter(pk=shelf.pk).update(ends_on=shelf.starts_on)
        pages.append(_pages(client_for(patron_a), _url(shelf), queries[:3]))
        Campaign.objects.filter(pk=shelf.pk).update(ends_on=shelf.ends_on)
        # An emergency banner on every page of the library.
        banner = {"banner_text": "应急<服务>", "services_url": "/e/", "services_link_text": "服务"}
        monkeypatch.setattr(emergency, "_answer", lambda request: {"active_emergency": banner})
        emergency.forget_local()
        pages.append(_pages(client_for(patron_a), _url(shelf), queries[:2]))
        monkeypatch.undo()
        emergency.forget_local()
        return pages

    framed = every_page()
    assert "Marking is closed." not in framed[0][1][1] and "应急&lt;服务&gt;" in framed[4][0][1]
    assert "?cls=S&amp;after=" in framed[0][1][1] and "?q=%3Cb%3E%22" in framed[0][4][1]
    full_render()
    assert every_page() == framed


def test_flash_messages_are_shown_on_the_full_page(shelf: Campaign, patron_a: Any) -> None:
    title = Title.objects.filter(clc_class="S").order_by("id").first()
    assert title is not None
    client = client_for(patron_a)
    client.get(_url(shelf))  # a frame for this shape exists already
    response = client.post(
        f"{_url(shelf)}mark/", {"title": title.pk, "reason": "study"}, follow=True
    )
    body = response.content.decode()
    assert 'class="messages"' in body and 'name="undo"' in body
    assert 'class="messages"' not in client.get(_url(shelf)).content.decode()  # shown once
