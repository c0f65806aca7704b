"""Queries on the ISO 18626 hot path: an outside peer's WillSupply and CopyCompleted (with the
document's URL) arriving at the endpoint, and our Request going out. Bounded, so that a change
that adds a query per message (an N+1, a lookup repeated per call) shows here; the throughput
itself is measured in `bench/iso18626.py`, never timed here."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from lxml import etree

from lifeline.delivery import peer as standin
from lifeline.delivery import services
from lifeline.delivery.choices import SupplierKind
from lifeline.delivery.logic import transport, urldelivery
from lifeline.delivery.models import DeliveryRequest, IllTransaction, Peer, Supplier

from .conftest import ARTICLE

pytestmark = pytest.mark.django_db
PEER = ("ISIL", "ZZ-QUERIES")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _confirm(peer: Peer, xml: bytes, key: str) -> bytes:
    """The peer's OK confirmation of whatever we send (no HTTP in this test)."""
    root = etree.fromstring(xml)
    return standin.confirmation(
        etree.QName(root[0]).localname, root[0], action=root[0].findtext(standin.q("action")) or ""
    )


def _supplying(txn: IllTransaction, ours: tuple[str, str], status: str) -> bytes:
    root, body = standin.envelope("supplyingAgencyMessage")
    standin.header(body, PEER, ours, txn.requesting_id, "P1")
    info = standin.sub(body, "messageInfo")
    standin.sub(info, "reasonForMessage", "StatusChange")
    st = standin.sub(body, "statusInfo")
    standin.sub(st, "status", status)
    standin.sub(st, "lastChange", standin.now())
    if status == "CopyCompleted":
        delivery = standin.sub(body, "deliveryInfo")
        standin.sub(delivery, "dateSent", standin.now())
        standin.sub(delivery, "itemId", "http://127.0.0.1:9/doc/P1.pdf")
        standin.sub(delivery, "sentVia", "URL")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_outside_copy_transaction_queries(
    library_a: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
    client: Client,
) -> None:
    from lifeline.delivery.logic.peers import local_agency

    monkeypatch.setattr(transport, "post", _confirm)
    monkeypatch.setattr(urldelivery, "fetch_pdf", lambda url, allow_internal: PDF)
    peer = Peer.objects.create(
        library=library_a,
        name="Queries peer",
        agency_id_type=PEER[0],
        agency_id_value=PEER[1],
        endpoint_url="http://127.0.0.1:9/iso18626",
        secret_in="peer-secret",
        secret_out="our-secret",
        allow_internal=True,
    )
    supplier = Supplier.objects.create(
        library=library_a, name="Queries peer", kind=SupplierKind.OUTSIDE, peer=peer
    )
    ours = local_agency(library_a)
    reqs = [
        DeliveryRequest.objects.create(
            library=library_a, title=f"{ARTICLE['title']} {i}", item_key=f"q:{i}"
        )
        for i in range(3)
    ]
    # The sends run after commit (a task; immediate here): counted with what queues them.
    sent = django_capture_on_commit_callbacks
    with sent(execute=True):
        services.send_to_supplier(reqs[0], supplier)  # warm: our agency id is made once
    with django_assert_max_num_queries(10), sent(execute=True):
        services.send_to_supplier(reqs[1], supplier)
    txn = IllTransaction.objects.get(request=reqs[1])
    headers = {"HTTP_X_ISO18626_SECRET": "peer-secret", "content_type": "application/xml"}
    url = "/delivery/iso18626/"
    # Peer and library in one query; the message kept by one INSERT after it is applied (its
    # unique key is the replay guard), so no look-up for a first copy; no savepoint. Counted
    # statements are prepared SQL (`logic/rawsql.py`), not built ORM queries. On PostgreSQL
    # the history row and the transaction's UPDATE go with that INSERT as one statement
    # (`rawsql.combined`): peer, transaction, that one (and the test's savepoint pair).
    pg = connection.vendor == "postgresql"
    with django_assert_max_num_queries(5 if pg else 7), sent(execute=True):
        answer = client.post(url, _supplying(txn, ours, "WillSupply"), **headers)
    assert b"<messageStatus>OK</messageStatus>" in answer.content
    # CopyCompleted: the document fetched and stored, the patron told, our Received sent.
    with django_assert_max_num_queries(12 if pg else 14), sent(execute=True):
        answer = client.post(url, _supplying(txn, ours, "CopyCompleted"), **headers)
    assert b"<messageStatus>OK</messageStatus>" in answer.content
    reqs[1].refresh_from_db()
    assert reqs[1].status == "delivered" and reqs[1].files.count() == 1


def _from_requester(ours: tuple[str, str], rid: str, action: str = "") -> bytes:
    """A peer asking us (we supply): its Request, or an action on it (Received)."""
    if not action:
        root, body = standin.envelope("request")
        standin.header(body, ours, PEER, rid)
        standin.sub(standin.sub(body, "bibliographicInfo"), "title", "A peer's paper")
        service = standin.sub(body, "serviceInfo")
        standin.sub(service, "requestType", "New")
        standin.sub(service, "serviceType", "Copy")
    else:
        root, body = standin.envelope("requestingAgencyMessage")
        standin.header(body, ours, PEER, rid)
        standin.sub(body, "action", action)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_supplier_side_queries(
    library_a: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
    client: Client,
) -> None:
    """The other role, message by message: a peer's Request (a request of ours and its
    transaction made, our confirmation), our staff's CopyCompleted with its send and the peer's
    confirmation read, the peer's Received."""
    from lifeline.delivery.logic import ill
    from lifeline.delivery.logic.peers import local_agency

    monkeypatch.setattr(transport, "post", _confirm)
    Peer.objects.create(
        library=library_a,
        name="Queries requester",
        agency_id_type=PEER[0],
        agency_id_value=PEER[1],
        endpoint_url="http://127.0.0.1:9/iso18626",
        secret_in="peer-secret",
        secret_out="our-secret",
        allow_internal=True,
    )
    ours = local_agency(library_a)
    headers = {"HTTP_X_ISO18626_SECRET": "peer-secret", "content_type": "application/xml"}
    url = "/delivery/iso18626/"
    sent = django_capture_on_commit_callbacks
    client.post(url, _from_requester(ours, "warm-1"), **headers)  # first request of the process
    with django_assert_max_num_queries(8), sent(execute=True):
        answer = client.post(url, _from_requester(ours, "their id/2 (any shape)"), **headers)
    assert b"<messageStatus>OK</messageStatus>" in answer.content
    txn = IllTransaction.objects.select_related("request", "peer").get(
        requesting_id="their id/2 (any shape)"
    )
    with django_assert_max_num_queries(7), sent(execute=True):
        ill.supplier_status(txn, "CopyCompleted", url="http://127.0.0.1:9/doc.pdf")
    with django_assert_max_num_queries(7), sent(execute=True):
        answer = client.post(
            url, _from_requester(ours, "their id/2 (any shape)", "Received"), **headers
        )
    assert b"<messageStatus>OK</messageStatus>" in answer.content
    txn.refresh_from_db()
    assert txn.iso_status == "CopyCompleted"
    assert txn.request.events.filter(note__startswith="Received").count() == 1
