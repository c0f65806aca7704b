"""Bad input: script in announcements, header injection, forged tokens, another library's
drafts, spam through the subscribe form."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from lifeline.conftest import client_for
from lifeline.core import notify
from lifeline.core.models import Library, Notification, Patron
from lifeline.push.logic import subscriptions
from lifeline.push.models import Announcement, Subscriber
from lifeline.push.tests.conftest import confirmed, draft

EVIL = (
    '<p onclick="steal()">Hi<script>alert(1)</script></p>'
    '<img src="x.png" onerror="alert(2)"><a href="javascript:alert(3)">go</a>'
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
)


@pytest.mark.django_db
def test_script_in_announcement_is_sanitised_everywhere(
    library_a: Library, librarian_a: Any
) -> None:
    staff = client_for(librarian_a)
    response = staff.post(
        f"/push/{library_a.code}/new/",
        {
            "topic": "service",
            "title": "<b>T</b>",
            "body": EVIL,
            "send_email": "",
            "send_robots": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    ann = Announcement.objects.get(library=library_a)
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style"):
        assert bad not in ann.body.lower()
    assert "Hi" in ann.body and 'src="x.png"' in ann.body
    staff.post(f"/push/{library_a.code}/{ann.pk}/", {"action": "publish"})
    for url in (
        f"/lib/{library_a.code}/news/{ann.pk}/",
        f"/lib/{library_a.code}/news/feed.atom",
        f"/push/{library_a.code}/{ann.pk}/wechat.html",
    ):
        page = (staff if url.startswith("/push/") else Client()).get(url).content.decode().lower()
        assert "<script>alert" not in page and "onerror=" not in page
    # The title is text: escaped on the page.
    page = Client().get(f"/lib/{library_a.code}/news/{ann.pk}/").content.decode()
    assert "&lt;b&gt;T&lt;/b&gt;" in page


@pytest.mark.django_db
def test_header_injection_refused(library_a: Library) -> None:
    anon = Client()
    response = anon.post(
        f"/lib/{library_a.code}/news/subscribe/",
        {"email": "a@example.edu\r\nBcc: victim@example.com", "topics": ["guide"]},
    )
    assert not response.context["done"]
    assert not Subscriber.objects.exists()
    with pytest.raises(subscriptions.SubscriptionError):
        subscriptions.subscribe(library_a, "a@example.edu\nBcc: v@example.com", ["guide"])
    with pytest.raises(ValueError):
        notify.queue_emails(
            library_a,
            [
                {
                    "to": ["a@example.edu"],
                    "subject": "s",
                    "body": "b",
                    "dedupe_key": "k",
                    "headers": {"List-Unsubscribe": "<x>\r\nBcc: v@example.com"},
                }
            ],
            kind="push:0",
        )
    # A title with a line break becomes one subject line.
    notify.queue_emails(
        library_a,
        [
            {
                "to": ["a@example.edu"],
                "subject": "T\r\nBcc: v@example.com",
                "body": "b",
                "dedupe_key": "k2",
            }
        ],
        kind="push:0",
    )
    assert "\n" not in Notification.objects.get(dedupe_key="k2").subject


@pytest.mark.django_db
def test_unsubscribe_tokens_cannot_be_forged_or_swapped(library_a: Library) -> None:
    victim = confirmed(library_a, "victim@example.edu")
    me = confirmed(library_a, "me@example.edu")
    mine = subscriptions.subscriber_token(me.pk)
    forged = f"{victim.pk}:{mine.split(':', 1)[1]}"
    anon = Client()
    assert anon.post(f"/push/-/u/{forged}/").status_code == 400
    assert anon.post("/push/-/u/garbage/").status_code == 400
    # A confirmation token is no unsubscribe token (another salt).
    confirm = subscriptions.confirm_token(victim)
    assert anon.post(f"/push/-/u/{confirm}/").status_code == 400
    victim.refresh_from_db()
    assert victim.is_active
    # A made-up confirmation is refused, and an unsubscribe token cannot confirm.
    assert anon.post(f"/push/-/confirm/{mine}/").status_code == 400
    # The click redirect follows only links we signed: no open redirect.
    assert anon.get("/push/-/c/https%3A%2F%2Fevil.example/").status_code == 404


@pytest.mark.django_db
def test_drafts_invisible_to_patrons_and_other_libraries(
    library_a: Library, library_b: Library, librarian_b: Any, patron_a: Any
) -> None:
    ann = draft(library_a, send_email=False, send_robots=False)
    for client in (Client(), client_for(patron_a), client_for(librarian_b)):
        assert client.get(f"/lib/{library_a.code}/news/{ann.pk}/").status_code == 404
        assert b"access" not in client.get(f"/lib/{library_a.code}/news/feed.atom").content
        assert "校外访问指南" not in client.get(f"/lib/{library_a.code}/news/").content.decode()
    other = client_for(librarian_b)
    assert other.get(f"/push/{library_a.code}/{ann.pk}/").status_code == 403
    assert other.get(f"/push/{library_b.code}/{ann.pk}/").status_code == 404
    assert other.post(f"/push/{library_a.code}/{ann.pk}/", {"action": "publish"}).status_code == 403
    assert other.get(f"/push/{library_a.code}/{ann.pk}/wechat.html").status_code == 403
    listed = other.get("/api/push/announcements/").json()
    assert listed["count"] == 0 if "count" in listed else listed == []
    assert other.post(f"/api/push/announcements/{ann.pk}/publish/").status_code == 404
    ann.refresh_from_db()
    assert ann.state == "draft"
    # A patron of A cannot reach the staff pages either.
    assert Patron.objects.filter(user=patron_a).exists()
    assert client_for(patron_a).get(f"/push/{library_a.code}/").status_code == 403


@pytest.mark.django_db
def test_honeypot_and_per_address_limit(library_a: Library) -> None:
    anon = Client()
    url = f"/lib/{library_a.code}/news/subscribe/"
    response = anon.post(url, {"email": "bot@example.edu", "topics": ["guide"], "website": "x"})
    assert response.context["done"]  # the robot is told it worked
    assert not Subscriber.objects.exists() and not Notification.objects.exists()
    for _ in range(subscriptions.CONFIRMS_PER_HOUR):
        subscriptions.subscribe(library_a, "flood@example.edu", ["guide"])
    with pytest.raises(subscriptions.SubscriptionError):
        subscriptions.subscribe(library_a, "FLOOD@example.edu ", ["guide"])
    assert (
        Notification.objects.filter(kind="push.confirm").count() == subscriptions.CONFIRMS_PER_HOUR
    )
