"""Patron pages and the staff console."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from lifeline.conftest import PASSWORD, client_for, make_staff
from lifeline.core.choices import Role
from lifeline.core.models import Library, Patron
from lifeline.delivery.choices import SupplierKind
from lifeline.delivery.models import DeliveryRequest, Supplier
from lifeline.reference import services
from lifeline.reference.choices import CloseReason, TicketChannel, TicketState
from lifeline.reference.counts import counts
from lifeline.reference.models import Ticket

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def ask(client: Client, library: Library, text: str, mode: str = "chat", **extra: str) -> Any:
    return client.post(f"/lib/{library.code}/ask/", {"question": text, "mode": mode, **extra})


@pytest.mark.django_db
def test_chat_without_javascript_and_escaped(
    client: Client, library_a: Library, reference_a: Any
) -> None:
    assert client.get(f"/lib/{library_a.code}/ask/").status_code == 200
    response = ask(client, library_a, XSS + "知网校外怎么用？")
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.CHAT and ticket.state == TicketState.NEW
    page = client.get(response["Location"])
    html = page.content.decode()
    assert XSS not in html and "&lt;script&gt;" in html
    assert 'hx-trigger="every 3s"' in html  # the enhancement; the page works without it
    # The patron writes again with a plain form post, then the page comes back.
    again = client.post(response["Location"], {"body": "补充：我在家里"})
    assert again.status_code == 302
    services.answer(ticket, reference_a, "请用 CARSI 登录。")
    fragment = client.get(f"{response['Location']}messages/")
    assert "请用 CARSI 登录。" in fragment.content.decode()
    # The next poll names the last message it has: nothing new is a 204 (htmx keeps the page).
    last = ticket.messages.order_by("-pk").first()
    assert last is not None and f"?after={last.pk}" in fragment.content.decode()
    assert client.get(f"{response['Location']}messages/", {"after": last.pk}).status_code == 204
    assert client.get(f"{response['Location']}messages/", {"after": last.pk - 1}).status_code == 200
    staff_page = client_for(reference_a).get(f"/reference/{library_a.code}/t/{ticket.pk}/")
    assert XSS not in staff_page.content.decode()
    # Rated after the answer.
    client.post(f"{response['Location']}rate/", {"score": "5", "comment": "很快"})
    ticket.refresh_from_db()
    assert ticket.rating == 5


@pytest.mark.django_db
def test_web_form_honeypot_and_rate_limit(
    client: Client, library_a: Library, settings: Any
) -> None:
    response = ask(client, library_a, "VPN 问题", mode="web", website="http://spam.example")
    assert response.status_code == 200 and not Ticket.objects.exists()
    settings.REFERENCE_MESSAGES_PER_HOUR = 2
    assert ask(client, library_a, "一", mode="web").status_code == 200
    assert ask(client, library_a, "二", mode="web").status_code == 200
    assert ask(client, library_a, "三", mode="web").status_code == 429
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_a_patron_of_another_library_never_sees_the_ticket(
    library_a: Library, library_b: Library, patron_a: Any
) -> None:
    mine = client_for(patron_a)
    response = ask(mine, library_a, "我的问题")
    ticket = Ticket.objects.get()
    assert ticket.patron == patron_a
    user_b = get_user_model().objects.create_user("patron_b", "b@example.edu", PASSWORD)
    Patron.objects.create(user=user_b, library=library_b)
    other = client_for(user_b)
    # The token under B's code, and A's page of a signed-in patron's ticket: not found.
    assert other.get(f"/lib/{library_b.code}/ask/{ticket.token}/").status_code == 404
    assert other.get(response["Location"]).status_code == 404
    assert other.get(f"/lib/{library_a.code}/ask/mine/").status_code == 403
    assert mine.get(f"/lib/{library_a.code}/ask/mine/").status_code == 200
    assert other.get(f"/reference/{library_a.code}/").status_code == 403


@pytest.mark.django_db
def test_queue_filters_and_query_count(
    library_a: Library, reference_a: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for i in range(12):
        t = services.open_ticket(
            library_a, channel=TicketChannel.WEB, body=f"问题 {i}", now=now - dt.timedelta(days=2)
        )
        services.set_tags(t, ["知网", f"t{i % 3}"])
    services.log_call(library_a, reference_a, question="电话：VPN 账号", answer_text="已告知")
    client = client_for(reference_a)
    url = f"/reference/{library_a.code}/"
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200 and response.content.decode().count("data-href") == 12
    assert client.get(url, {"state": "all"}).content.decode().count("data-href") == 13
    assert (
        client.get(url, {"channel": "phone", "state": "all"}).content.decode().count("data-href")
        == 1
    )
    assert client.get(url, {"tag": "t1"}).content.decode().count("data-href") == 4
    assert client.get(url, {"overdue": "on"}).content.decode().count("data-href") == 12
    assert (
        client.get(url, {"assignee": "me", "state": "all"}).content.decode().count("data-href") == 1
    )


@pytest.mark.django_db
def test_transfer_to_a_partner_library(
    library_a: Library, library_b: Library, reference_a: Any
) -> None:
    Supplier.objects.create(
        library=library_a, name="哈工大", kind=SupplierKind.PARTNER, partner=library_b
    )
    ref_b = make_staff("ref_b", library_b, Role.REFERENCE)
    ticket = services.open_ticket(
        library_a, channel=TicketChannel.WEB, body="需要哈工大的馆藏", contact_email="p@example.edu"
    )
    a, b = client_for(reference_a), client_for(ref_b)
    assert b.get(f"/reference/{library_b.code}/t/{ticket.pk}/").status_code == 404
    a.post(f"/reference/{library_a.code}/t/{ticket.pk}/transfer/", {"partner": library_b.pk})
    ticket.refresh_from_db()
    assert ticket.handling_library == library_b
    assert f"/t/{ticket.pk}/" in b.get(f"/reference/{library_b.code}/").content.decode()
    assert f"/t/{ticket.pk}/" not in a.get(f"/reference/{library_a.code}/").content.decode()
    assert (
        f"/t/{ticket.pk}/"
        in a.get(f"/reference/{library_a.code}/?view=transferred&state=all").content.decode()
    )
    # The origin keeps a view and may note, not answer; the partner answers.
    assert a.get(f"/reference/{library_a.code}/t/{ticket.pk}/").status_code == 200
    assert (
        a.post(f"/reference/{library_a.code}/t/{ticket.pk}/answer/", {"body": "x"}).status_code
        == 403
    )
    b.post(f"/reference/{library_b.code}/t/{ticket.pk}/answer/", {"body": "哈工大馆藏有此书。"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.ANSWERED
    assert ticket.messages.get(kind="staff").author_library == library_b
    # A library that is no partner is refused.
    other = Library.objects.create(code="other", name="其他")
    with pytest.raises(ValidationError, match="合作馆"):
        services.transfer(ticket, other, reference_a)


@pytest.mark.django_db
def test_turn_into_a_delivery_request(library_a: Library, reference_a: Any, patron_a: Any) -> None:
    ticket = services.open_ticket(
        library_a, channel=TicketChannel.WEB, body="想要一篇外文文献", patron=patron_a
    )
    client_for(reference_a).post(
        f"/reference/{library_a.code}/t/{ticket.pk}/delivery/",
        {
            "title": "Deep learning",
            "citation": "LeCun Y. Deep learning. Nature, 2015",
            "doi": "10.1038/nature14539",
        },
    )
    req = DeliveryRequest.objects.get()
    assert req.library == library_a and req.patron == patron_a and req.channel == "reference"
    ticket.refresh_from_db()
    assert ticket.delivery_request_id == req.pk and ticket.close_reason == CloseReason.DELIVERY


@pytest.mark.django_db
def test_statistics_export_counts_and_api(
    library_a: Library, reference_a: Any, librarian_b: Any, django_assert_max_num_queries: Any
) -> None:
    t = services.open_ticket(
        library_a, channel=TicketChannel.EMAIL, body="CARSI", contact_email="x@e.edu"
    )
    services.answer(t, reference_a, "答复")
    client = client_for(reference_a)
    assert client.get(f"/reference/{library_a.code}/statistics/").status_code == 200
    xlsx = client.get(f"/reference/{library_a.code}/statistics/", {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    figures = {
        (c.measure, c.label): c.figure
        for c in counts(library_a, timezone.localdate(), timezone.localdate())
    }
    assert figures[("questions", "")] == 1
    client.get("/api/reference/tickets/")
    with django_assert_max_num_queries(8):
        api = client.get("/api/reference/tickets/")
    assert api.status_code == 200 and api.json()["results"][0]["id"] == t.pk
    assert client_for(librarian_b).get("/api/reference/tickets/").json()["results"] == []
    assert client_for(librarian_b).get(f"/api/reference/tickets/{t.pk}/").status_code == 404
    posted = client.post(
        f"/api/reference/tickets/{t.pk}/note/", {"body": "内部"}, content_type="application/json"
    )
    assert posted.status_code == 201
    assert client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_english_pages(library_a: Library, reference_a: Any) -> None:
    client = Client()
    client.cookies["lifeline_lang"] = "en"
    assert "Ask a librarian" in client.get(f"/lib/{library_a.code}/ask/").content.decode()
    staff = client_for(reference_a)
    assert "参考咨询" in staff.get(f"/reference/{library_a.code}/").content.decode()
