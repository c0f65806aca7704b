"""The issue's "an announcement goes to site, feed, e-mail and a webhook robot", against a
loopback SMTP server and a loopback HTTP server, in both languages."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from django.test import Client
from lxml import etree

from lifeline.conftest import client_for
from lifeline.core.choices import WebhookFormat
from lifeline.core.models import Library
from lifeline.core.tests.test_notify import Hook
from lifeline.push.choices import State
from lifeline.push.logic import publish, subscriptions
from lifeline.push.models import Robot, StateChange, Subscriber
from lifeline.push.tests.conftest import confirmed, draft


def _parsed(envelope: Any) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.django_db(transaction=True)
def test_announcement_goes_to_site_feed_email_and_robot(
    library_a: Library, smtp: Any, hook: str, librarian_a: Any
) -> None:
    Robot.objects.create(library=library_a, name="服务群", url=hook, fmt=WebhookFormat.WECOM)
    zh = confirmed(library_a, "zhang@example.edu")
    en = confirmed(library_a, "li@example.edu")
    Subscriber.objects.filter(pk=en.pk).update(language="en")
    confirmed(library_a, "other-topic@example.edu", topics=",training,")
    ann = draft(library_a)
    staff = client_for(librarian_a)
    response = staff.post(f"/push/{library_a.code}/{ann.pk}/", {"action": "publish"})
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.state == State.PUBLISHED
    assert [c.new for c in StateChange.objects.filter(announcement=ann)] == ["draft", "published"]

    # Site, both languages.
    anon = Client()
    page = anon.get(f"/lib/{library_a.code}/news/{ann.pk}/")
    assert page.status_code == 200 and "校外访问指南" in page.content.decode()
    page_en = anon.get(f"/lib/{library_a.code}/news/{ann.pk}/?lang=en")
    assert "Off-campus access guide" in page_en.content.decode()

    # Feed (Atom, parsed), per library and per topic.
    anon = Client()
    for url in (
        f"/lib/{library_a.code}/news/feed.atom",
        f"/lib/{library_a.code}/news/topic/guide/feed.atom",
    ):
        feed = anon.get(url)
        assert feed["Content-Type"].startswith("application/atom+xml")
        tree = etree.fromstring(feed.content)
        titles = tree.findall(
            ".//{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title"
        )
        assert [t.text for t in titles] == ["校外访问指南"]
    empty = anon.get(f"/lib/{library_a.code}/news/topic/training/feed.atom")
    assert b"<entry>" not in empty.content

    # E-mail: the two guide subscribers, once each, with RFC 8058 headers, in their language.
    got = {tuple(m.rcpt_tos): _parsed(m) for m in smtp.messages}
    assert sorted(got) == [("li@example.edu",), ("zhang@example.edu",)]
    msg_zh, msg_en = got[("zhang@example.edu",)], got[("li@example.edu",)]
    assert msg_zh["Subject"] == "校外访问指南"
    assert msg_en["Subject"] == "Off-campus access guide"
    assert msg_zh["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = msg_zh["List-Unsubscribe"].strip("<>")
    html = msg_zh.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "http://" in html and 'src="http' in html  # images absolute
    assert "style=" in html

    # The one-click unsubscribe works as a mail program does it (POST, no CSRF token).
    path = unsub.split("://", 1)[1].split("/", 1)[1]
    answer = Client(enforce_csrf_checks=True).post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    zh.refresh_from_db()
    assert zh.unsubscribed_at is not None

    # The robot got WeCom's markdown message with the title and the page link.
    assert len(Hook.received) == 1
    body = Hook.received[0]
    assert body["msgtype"] == "markdown" and "校外访问指南" in body["markdown"]["content"]
    assert f"/lib/{library_a.code}/news/{ann.pk}/" in body["markdown"]["content"]

    # Reach on the staff page: two e-mails, one robot post.
    figures = staff.get(f"/push/{library_a.code}/{ann.pk}/").context["figures"]
    assert figures["email_sent"] == 2 and figures["robot_sent"] == 1


@pytest.mark.django_db
def test_double_opt_in(library_a: Library, settings: Any) -> None:
    from django.core import mail

    anon = Client()
    url = f"/lib/{library_a.code}/news/subscribe/"
    assert anon.get(url).status_code == 200
    response = anon.post(url, {"email": "Wang@Example.edu", "topics": ["guide", "epidemic"]})
    assert response.context["done"]
    sub = Subscriber.objects.get(library=library_a)
    assert not sub.is_active  # nothing is sent before the owner confirms
    from lifeline.core.models import Notification

    note = Notification.objects.get(kind="push.confirm")
    assert note.recipients == ["wang@example.edu"]
    link = next(w for w in note.body.split() if "/push/-/confirm/" in w)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert anon.get(path).status_code == 200  # a scanner opening the link confirms nothing
    sub.refresh_from_db()
    assert not sub.is_active
    assert anon.post(path).status_code == 200
    sub.refresh_from_db()
    assert sub.is_active and sub.topic_list == ["epidemic", "guide"]
    # Stored encrypted: the table holds no address in clear.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM push_subscriber")
        (raw,) = cursor.fetchone()
    assert "example.edu" not in raw
    assert mail.outbox is not None


@pytest.mark.django_db
def test_schedule_and_expiry(library_a: Library) -> None:
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    ann = draft(
        library_a,
        send_email=False,
        send_robots=False,
        publish_at=now + dt.timedelta(hours=1),
        expires_at=now + dt.timedelta(hours=3),
    )
    ann = publish.publish(ann, now=now)
    assert ann.state == State.SCHEDULED
    anon = Client()
    assert anon.get(f"/lib/{library_a.code}/news/{ann.pk}/").status_code == 404
    assert publish.tick(now + dt.timedelta(hours=2)) == (1, 0)
    assert anon.get(f"/lib/{library_a.code}/news/{ann.pk}/").status_code == 200
    assert publish.tick(now + dt.timedelta(hours=4)) == (0, 1)
    ann.refresh_from_db()
    assert ann.state == State.EXPIRED
    assert [c.new for c in ann.changes.order_by("id")] == [
        "draft",
        "scheduled",
        "published",
        "expired",
    ]


@pytest.mark.django_db
def test_wechat_export_inline_styles_and_absolute_images(
    library_a: Library, librarian_a: Any
) -> None:
    ann = draft(library_a)
    response = client_for(librarian_a).get(
        f"/push/{library_a.code}/{ann.pk}/wechat.html?download=1"
    )
    markup = response.content.decode()
    assert "<style" not in markup and "style=" in markup
    assert (
        'src="http://127.0.0.1:8000/static/lifeline/guide.png"' in markup or 'src="http' in markup
    )
    assert response["Content-Disposition"].startswith("attachment")


def test_subscription_tokens_unforgeable() -> None:
    token = subscriptions.subscriber_token(7)
    assert subscriptions.subscriber_token(7) == token
    forged = "8:" + token.split(":", 1)[1]
    from django.core import signing

    with pytest.raises(signing.BadSignature):
        signing.Signer(salt=subscriptions.SUBSCRIBER_SALT).unsign(forged)
