"""A CARSI patron's e-mail: released by the IdP (`mail`) and kept current, or asked once and
verified by a link; either way a delivery notice reaches it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail as django_mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from lifeline.accounts import services
from lifeline.accounts.models import PatronMail
from lifeline.accounts.tests.federation_kit import post, to_idp
from lifeline.core import notify
from lifeline.core.models import Notification, Patron
from lifeline.delivery import services as delivery

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ARTICLE = {
    "doc_type": "foreign_article",
    "title": "Deep learning for trees",
    "source": "Forest Ecology",
    "year": 2019,
    "issn": "0378-1127",
}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def deliver_a_document(user: Any, library: Any) -> list[Any]:
    """The delivery app's own path: the patron asks, staff deliver, the outbox sends."""
    django_mail.outbox.clear()
    req, _created = delivery.submit(library, ARTICLE, patron=user)
    delivery.deliver(req, SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"))
    notify.send_pending(now=timezone.now() + dt.timedelta(seconds=1))
    return [m for m in django_mail.outbox if "Deep learning for trees" in m.subject]


@pytest.mark.django_db
def test_released_mail_is_stored_kept_current_and_gets_the_notice(
    client: Client, trusted: Any, library_a: Any
) -> None:
    nefu, _hit = trusted
    response = post(client, to_idp(client, nefu, target="/lib/nefu/"))
    assert response["Location"] == "/lib/nefu/"  # not asked: the IdP released it
    user = Patron.objects.get().user
    assert services.patron_mail(user) == "wang@nefu.edu.cn" == user.email
    assert PatronMail.objects.get().from_idp
    # The university changes the address: the next sign-in brings the new one.
    nefu.attributes["mail"] = ["t.wang@nefu.edu.cn"]
    again = Client()
    post(again, to_idp(again, nefu))
    user.refresh_from_db()
    assert services.patron_mail(user) == "t.wang@nefu.edu.cn" == user.email
    sent = deliver_a_document(user, library_a)
    assert [m.to for m in sent] == [["t.wang@nefu.edu.cn"]]
    assert "/delivery/" in sent[0].body


@pytest.mark.django_db
def test_unreleased_mail_is_asked_once_and_verified_by_a_link(
    client: Client, trusted: Any, library_a: Any
) -> None:
    nefu, _hit = trusted
    del nefu.attributes["mail"]
    response = post(client, to_idp(client, nefu, target="/lib/nefu/"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mail/?next=")
    page = client.get(response["Location"])
    assert page.status_code == 200
    user = Patron.objects.get().user
    assert user.email == ""
    sent = client.post(
        "/accounts/mail/", {"email": "wang.private@example.org", "next": "/lib/nefu/"}
    )
    assert sent.status_code == 200
    assert user.email == "" and services.patron_mail(user) == ""  # not before the link
    verify = Notification.objects.get(kind="accounts.mail_verify")
    assert verify.recipients == ["wang.private@example.org"]
    link = re.search(r"https?://\S+/accounts/mail/confirm/(\S+)/", verify.body)
    assert link is not None
    path = f"/accounts/mail/confirm/{link.group(1)}/"
    anonymous = Client()  # the link is opened on the phone, not where the patron signed in
    assert anonymous.get(path).status_code == 200
    user.refresh_from_db()
    assert user.email == ""  # a mail scanner opening the link confirms nothing
    assert anonymous.post(path).status_code == 200
    user.refresh_from_db()
    assert services.patron_mail(user) == "wang.private@example.org" == user.email
    assert anonymous.post(path).status_code == 404  # used once
    # Asked once: the next sign-in goes straight on.
    other = Client()
    assert post(other, to_idp(other, nefu, target="/lib/nefu/"))["Location"] == "/lib/nefu/"
    sent_mail = deliver_a_document(user, library_a)
    assert [m.to for m in sent_mail] == [["wang.private@example.org"]]


@pytest.mark.django_db
def test_requests_filed_before_the_address_is_verified_get_it_and_the_missed_notice(
    trusted: Any, library_a: Any
) -> None:
    """A patron asks for two documents before confirming the address; one is delivered
    meanwhile (no notice could go out). Confirming fills both requests and sends that notice,
    once, even when the address is confirmed again later."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username="early")
    waiting, _c = delivery.submit(library_a, {**ARTICLE, "title": "Still waiting"}, patron=user)
    done, _c = delivery.submit(library_a, ARTICLE, patron=user)
    delivery.deliver(done, SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"))
    assert not Notification.objects.filter(kind="delivery.delivered").exists()
    services.request_mail_verification(user, "early@example.org", library_a)
    verify = Notification.objects.get(kind="accounts.mail_verify")
    token = re.search(r"/accounts/mail/confirm/(\S+)/", verify.body)
    assert token is not None
    assert services.confirm_mail(token.group(1)) is not None
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert waiting.patron_email == done.patron_email == "early@example.org"
    notice = Notification.objects.get(kind="delivery.delivered")
    assert notice.recipients == ["early@example.org"]
    # Verified again (an IdP now releases the same address): no second notice.
    services.record_released_mail(user, "early@example.org")
    assert Notification.objects.filter(kind="delivery.delivered").count() == 1


@pytest.mark.django_db
def test_not_now_is_remembered(client: Client, trusted: Any) -> None:
    nefu, _hit = trusted
    del nefu.attributes["mail"]
    first = post(client, to_idp(client, nefu, target="/lib/nefu/"))
    skip = client.post("/accounts/mail/", {"skip": "1", "next": "/lib/nefu/"})
    assert skip.status_code == 302 and skip["Location"] == "/lib/nefu/"
    assert first["Location"].startswith("/accounts/mail/")
    other = Client()
    assert post(other, to_idp(other, nefu, target="/lib/nefu/"))["Location"] == "/lib/nefu/"
    assert not Notification.objects.filter(kind="accounts.mail_verify").exists()


@pytest.mark.django_db
def test_mail_pages_fail_safely(client: Client, librarian_a: Any, trusted: Any) -> None:
    assert client.get("/accounts/mail/").status_code == 302  # anonymous: to sign-in
    staff = Client()
    staff.force_login(librarian_a)
    assert staff.get("/accounts/mail/").status_code == 302  # not a patron
    for token in ["x", "A" * 5000, "../../admin", "%00"]:
        assert client.get(f"/accounts/mail/confirm/{token}/").status_code == 404
        assert client.post(f"/accounts/mail/confirm/{token}/").status_code == 404
    nefu, _hit = trusted
    del nefu.attributes["mail"]
    post(client, to_idp(client, nefu))
    for bad in ["not-an-address", "a" * 300 + "@x.org", ""]:
        page = client.post("/accounts/mail/", {"email": bad, "next": "https://evil.example/"})
        assert page.status_code == 200
        assert "https://evil.example/" not in page.content.decode()
    assert not Notification.objects.filter(kind="accounts.mail_verify").exists()
    # An expired link is refused.
    user = Patron.objects.get().user
    services.request_mail_verification(user, "late@example.org", None)
    token_body = Notification.objects.get(kind="accounts.mail_verify").body
    token = re.search(r"/accounts/mail/confirm/(\S+)/", token_body).group(1)  # type: ignore[union-attr]
    PatronMail.objects.update(sent_at=timezone.now() - dt.timedelta(days=3))
    assert client.post(f"/accounts/mail/confirm/{token}/").status_code == 404
