"""An ISO 18626 exchange between two libraries of one installation; every message validates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from lxml import etree

from lifeline.core.models import ApiToken
from lifeline.delivery import services
from lifeline.delivery.choices import Direction, MessageOutcome, Status, UnfilledReason
from lifeline.delivery.logic import iso18626
from lifeline.delivery.logic.builders import build_request, build_requesting, build_supplying
from lifeline.delivery.logic.peers import partner_peer
from lifeline.delivery.models import DeliveryRequest, IllTransaction, IsoMessage

from .conftest import ARTICLE, pdf

pytestmark = pytest.mark.django_db


def _all_valid() -> None:
    for m in IsoMessage.objects.all():
        if m.outcome == MessageOutcome.OK:
            iso18626.validate(m.xml.encode())  # raises if not


def test_exchange_between_two_libraries(
    library_a: Any,
    library_b: Any,
    patron_a: Any,
    delivery_a: Any,
    librarian_b: Any,
    partner_supplier: Any,
    today_10: dt.datetime,
) -> None:
    req, _ = services.submit(
        library_a, {**ARTICLE, "doi": "10.1016/j.foreco.2019.01.001"}, patron=patron_a, now=today_10
    )
    services.send_to_supplier(req, partner_supplier, by=delivery_a, now=today_10)

    # B now holds a copy of the request, made from the ISO 18626 Request message.
    copy = DeliveryRequest.objects.get(library=library_b, origin=req)
    assert (copy.title, copy.source, copy.doi, copy.status) == (
        ARTICLE["title"],
        "Forest Ecology",
        "10.1016/j.foreco.2019.01.001",
        Status.SUBMITTED,
    )
    sent = IsoMessage.objects.get(library=library_a, direction=Direction.OUT, kind="request")
    root = etree.fromstring(sent.xml.encode())
    assert (
        root.tag == f"{{{iso18626.NS}}}ISO18626Message"
        and root.get(f"{{{iso18626.NS}}}version") == "1.2"
    )
    # Sent in-process and confirmed: the partner's confirmation is kept with the message.
    assert (
        sent.send_state == "sent" and sent.outcome == "ok" and "requestConfirmation" in sent.answer
    )

    # B supplies: a SupplyingAgencyMessage CopyCompleted delivers to A's patron with A's own link.
    services.deliver(copy, pdf(), by=librarian_b, now=today_10 + dt.timedelta(hours=2))
    req.refresh_from_db()
    assert req.status == Status.DELIVERED and req.files.count() == 1
    assert req.files.get().file.read().startswith(b"%PDF")
    assert IsoMessage.objects.filter(
        library=library_a, kind="supplyingAgencyMessage", status="CopyCompleted"
    ).exists()
    _all_valid()
    assert IsoMessage.objects.filter(outcome=MessageOutcome.ERROR).count() == 0


def test_unfilled_by_partner_returns_to_staff_and_cancel_reaches_partner(
    library_a: Any,
    library_b: Any,
    patron_a: Any,
    delivery_a: Any,
    librarian_b: Any,
    partner_supplier: Any,
) -> None:
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, partner_supplier, by=delivery_a)
    copy = DeliveryRequest.objects.get(library=library_b, origin=req)
    services.mark_unfilled(
        copy, UnfilledReason.NOT_AVAILABLE, note="missing volume", by=librarian_b
    )
    req.refresh_from_db()
    assert req.status == Status.IN_PROCESS  # back to A's staff to try another supplier
    # A asks B again and then cancels: B's new copy is cancelled by a RequestingAgencyMessage.
    DeliveryRequest.objects.filter(pk=copy.pk).delete()
    services.send_to_supplier(req, partner_supplier, by=delivery_a)
    services.cancel(req, by=patron_a)
    assert DeliveryRequest.objects.get(library=library_b, origin=req).status == Status.CANCELLED
    assert IsoMessage.objects.filter(
        kind="requestingAgencyMessage", status="Cancel", direction=Direction.IN
    ).exists()
    _all_valid()


def test_invalid_partner_message_is_refused_and_recorded(
    library_a: Any, library_b: Any, patron_a: Any, delivery_a: Any, partner_supplier: Any
) -> None:
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, partner_supplier, by=delivery_a)
    before = req.events.count()
    theirs = IllTransaction.objects.get(role="supplier", request__origin=req)
    bad = build_supplying(theirs, "CopyCompleted", req.created_at)
    bad = bad.replace(b"<status>CopyCompleted</status>", b"<status>Teleported</status>")
    answer = etree.fromstring(iso18626.receive(bad))
    iso18626.validate(
        etree.tostring(answer)
    )  # the refusal itself is a valid ISO 18626 confirmation
    ns = {"i": iso18626.NS}
    assert answer.findtext(".//i:messageStatus", namespaces=ns) == "ERROR"
    assert answer.findtext(".//i:errorType", namespaces=ns) == "BadlyFormedMessage"
    assert "line" in answer.findtext(".//i:errorValue", namespaces=ns)
    rejected = IsoMessage.objects.get(outcome=MessageOutcome.ERROR, direction="in")
    assert rejected.library == library_a and "Teleported" in rejected.error
    req.refresh_from_db()
    assert req.status == Status.REQUESTED and req.events.count() == before  # nothing changed
    # Well-formed and valid, but about a request that does not exist: refused as well.
    ours = IllTransaction.objects.get(role="requester", request=req)
    unknown = build_requesting(ours, "Cancel", req.created_at).replace(
        ours.requesting_id.encode(), b"no-such-request"
    )
    answer = etree.fromstring(iso18626.receive(unknown))
    assert answer.findtext(".//i:errorType", namespaces=ns) == "UnrecognisedDataValue"
    assert etree.fromstring(iso18626.receive(b"<not xml")) is not None


def test_http_endpoint_needs_a_token(client: Any, library_a: Any, librarian_b: Any) -> None:
    url = reverse("delivery:iso18626")
    # No credentials and no readable sender: the standard error confirmation, nothing applied.
    anonymous = client.post(url, b"<x/>", content_type="application/xml")
    assert anonymous.status_code == 200 and b"ERROR" in anonymous.content
    bad = client.post(
        url, b"<x/>", content_type="application/xml", HTTP_AUTHORIZATION="Bearer nonsense"
    )
    assert bad.status_code == 401
    _, token = ApiToken.issue(librarian_b, "iso")
    response = client.post(
        url, b"<x/>", content_type="application/xml", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200
    assert b"<messageStatus>ERROR</messageStatus>" in response.content


def test_http_sender_must_be_staff_of_the_agency_it_speaks_for(
    client: Any,
    library_a: Any,
    library_b: Any,
    patron_a: Any,
    delivery_a: Any,
    librarian_b: Any,
    today_10: dt.datetime,
) -> None:
    """B's token cannot send a Request in A's name; A's own delivery staff can."""
    ns = {"i": iso18626.NS}
    url = reverse("delivery:iso18626")
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=today_10)
    txn = IllTransaction.objects.create(
        library=library_a,
        request=req,
        peer=partner_peer(library_a, library_b),
        role="requester",
        requesting_id=f"{req.reference()}-1",
    )
    message = build_request(txn, today_10)

    _, b_token = ApiToken.issue(librarian_b, "iso")
    forged = client.post(
        url, message, content_type="application/xml", HTTP_AUTHORIZATION=f"Bearer {b_token}"
    )
    answer = etree.fromstring(forged.content)
    assert answer.findtext(".//i:messageStatus", namespaces=ns) == "ERROR"
    assert library_a.code.upper() in answer.findtext(".//i:errorValue", namespaces=ns)
    assert not DeliveryRequest.objects.filter(library=library_b, origin=req).exists()

    _, a_token = ApiToken.issue(delivery_a, "iso")
    sent = client.post(
        url, message, content_type="application/xml", HTTP_AUTHORIZATION=f"Bearer {a_token}"
    )
    answer = etree.fromstring(sent.content)
    assert answer.findtext(".//i:messageStatus", namespaces=ns) == "OK"
    assert DeliveryRequest.objects.filter(library=library_b, origin=req).exists()
