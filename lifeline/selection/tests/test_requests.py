"""Reader recommendations (荐购) and home delivery (送书服务) through to the end, with the
outbox notices and the address erased when the book is back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lifeline.core.models import Library, Notification
from lifeline.selection.choices import RecStatus, ShipStatus
from lifeline.selection.logic import requests as logic
from lifeline.selection.models import Catalogue, Event, Holding, IllegalTransition, Title

pytestmark = pytest.mark.django_db


def test_recommendation_held_is_answered_at_once(library_a: Library, patron_a: Any) -> None:
    Holding.objects.create(
        library=library_a, isbn="9787111213826", title="Java编程思想", call_number="TP312/123"
    )
    rec = logic.recommend(library_a, patron_a, isbn="7-111-21382-3")
    assert rec.status == RecStatus.HELD and rec.holding is not None
    assert "TP312/123" in rec.answer and rec.closed_at is not None


def test_recommendation_from_a_citation_queued_ordered_arrived(
    library_a: Library, patron_a: Any, acq_a: Any, cnmarc_catalogue: Catalogue
) -> None:
    offered = Title.objects.filter(catalogue=cnmarc_catalogue).first()
    assert offered is not None
    citation = f"国家统计局. '94中国发展报告[M]. 北京: 中国统计出版社, 1994. ISBN {offered.isbn}"
    rec = logic.recommend(library_a, patron_a, citation=citation, note="写论文用")
    assert rec.status == RecStatus.QUEUED and rec.matched_title == offered
    with pytest.raises(ValidationError):  # the same book again while it is open
        logic.recommend(library_a, patron_a, isbn=offered.isbn)
    with pytest.raises(IllegalTransition):
        logic.move_recommendation(rec, RecStatus.ARRIVED, acq_a)  # not ordered yet
    logic.move_recommendation(rec, RecStatus.ORDERED, acq_a)
    rec = logic.move_recommendation(rec, RecStatus.ARRIVED, acq_a, answer="已到馆，可借阅")
    assert rec.closed_at is not None
    notice = Notification.objects.get(kind="selection")
    assert notice.recipients == ["patron_a@example.edu"] and rec.title[:10] in notice.subject
    assert [e.new for e in rec.events.all()] == ["queued", "ordered", "arrived"]


def test_recommendation_refusals(library_a: Library, patron_a: Any, patron_b: Any) -> None:
    with pytest.raises(ValidationError) as info:
        logic.recommend(library_a, patron_a, isbn="9787111213827")
    assert "isbn" in info.value.message_dict
    with pytest.raises(ValidationError):
        logic.recommend(library_a, patron_a)
    with pytest.raises(PermissionDenied):
        logic.recommend(library_a, patron_b, title="某书")


def test_home_delivery_to_the_end(library_a: Library, patron_a: Any, delivery_a: Any) -> None:
    book = Holding.objects.create(library=library_a, title="森林生态学", call_number="S718/1")
    d = logic.request_delivery(
        library_a,
        patron_a,
        holding_id=book.pk,
        title="",
        recipient="张三",
        phone="13800000000",
        address="哈尔滨市香坊区和兴路26号",
    )
    assert d.status == ShipStatus.REQUESTED and d.call_number == "S718/1"
    with pytest.raises(ValidationError):
        logic.move_delivery(d, ShipStatus.SHIPPED, delivery_a)  # not picked yet
    logic.move_delivery(d, ShipStatus.PICKED, delivery_a)
    with pytest.raises(ValidationError):
        logic.move_delivery(d, ShipStatus.SHIPPED, delivery_a)  # no tracking number
    d = logic.move_delivery(
        d, ShipStatus.SHIPPED, delivery_a, tracking_no="SF1234567890", courier="顺丰"
    )
    assert Notification.objects.filter(kind="selection", subject__contains="森林生态学").exists()
    d = logic.move_delivery(d, ShipStatus.RECEIVED, patron_a)
    assert d.address  # kept while the book is out
    d = logic.move_delivery(d, ShipStatus.RETURN_SHIPPED, patron_a, tracking_no="SF999")
    d = logic.move_delivery(d, ShipStatus.RETURNED, delivery_a)
    assert (d.recipient, d.phone, d.address) == ("", "", "") and d.address_erased_at
    assert Event.objects.filter(delivery=d).count() == 6


def test_home_delivery_refusals(
    library_a: Library, library_b: Library, patron_a: Any, patron_b: Any
) -> None:
    other = Holding.objects.create(library=library_b, title="别馆的书")
    with pytest.raises(ValidationError):
        logic.request_delivery(
            library_a,
            patron_a,
            holding_id=other.pk,
            title="",
            recipient="a",
            phone="1",
            address="x",
        )
    with pytest.raises(PermissionDenied):
        logic.request_delivery(
            library_a, patron_b, holding_id=None, title="书", recipient="a", phone="1", address="x"
        )
    with pytest.raises(ValidationError):
        logic.request_delivery(
            library_a, patron_a, holding_id=None, title="书", recipient="a", phone="1", address=" "
        )
    for i in range(logic.MAX_OPEN_DELIVERIES):
        logic.request_delivery(
            library_a,
            patron_a,
            holding_id=None,
            title=f"书{i}",
            recipient="a",
            phone="1",
            address="x",
        )
    with pytest.raises(ValidationError):
        logic.request_delivery(
            library_a,
            patron_a,
            holding_id=None,
            title="再一本",
            recipient="a",
            phone="1",
            address="x",
        )


def test_home_delivery_api_to_the_end(
    library_a: Library, patron_a: Any, delivery_a: Any, librarian_b: Any
) -> None:
    from lifeline.conftest import client_for

    book = Holding.objects.create(library=library_a, title="森林生态学", call_number="S718/1")
    patron = client_for(patron_a)
    url = "/api/selection/home-deliveries/"
    made = patron.post(
        url,
        {
            "holding": book.pk,
            "recipient": "张同学",
            "phone": "13800000000",
            "address": "和兴路26号",
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "requested" and "address" not in body
    pk = body["id"]
    # The patron may not ship it; the desk may, with a tracking number.
    assert patron.post(f"{url}{pk}/move/", {"status": "shipped"}).status_code == 404
    desk = client_for(delivery_a)
    assert desk.post(f"{url}{pk}/move/", {"status": "shipped"}).status_code == 400
    for new in ("picked", "shipped"):
        r = desk.post(f"{url}{pk}/move/", {"status": new, "tracking_no": "SF1", "courier": "顺丰"})
        assert r.status_code == 200, r.content
    assert patron.post(f"{url}{pk}/move/", {"status": "received"}).json()["status"] == "received"
    # Another library's librarian sees nothing of it.
    assert client_for(librarian_b).get(f"{url}{pk}/").status_code == 404
    assert patron.get(url).json()["results"][0]["tracking_no"] == "SF1"
