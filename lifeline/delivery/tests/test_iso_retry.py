"""RetryPossible in both roles: requestType Retry and Reminder from a peer; a retry-after that
sends the Retry request when its time comes when the rota has no one else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from lxml import etree

from lifeline.delivery import peer as node
from lifeline.delivery import services
from lifeline.delivery.logic import ill, transport
from lifeline.delivery.logic.builders import build_supplying
from lifeline.delivery.logic.peers import local_agency
from lifeline.delivery.models import IllTransaction, IsoMessage, Peer, Supplier

from .conftest import ARTICLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def outside(library_a: Any) -> Peer:
    return Peer.objects.create(
        library=library_a, name="Outside", agency_id_type="OCLC", agency_id_value="ZZQ",
        endpoint_url="https://ill.example.org/iso18626", secret_in="s",
    )  # fmt: skip


def _request(peer: Peer, rid: str, request_type: str) -> bytes:
    root, body = node.envelope("request")
    node.header(body, local_agency(peer.library), ("OCLC", "ZZQ"), rid)
    node.sub(node.sub(body, "bibliographicInfo"), "title", "Forest soils")
    service = node.sub(body, "serviceInfo")
    node.sub(service, "requestType", request_type)
    node.sub(service, "serviceType", "Copy")
    return etree.tostring(root)


def _ok(answer: bytes) -> bool:
    return b"<messageStatus>OK</messageStatus>" in answer


def test_retry_and_reminder_from_a_peer(
    outside: Peer, delivery_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert _ok(ill.receive(_request(outside, "R-1", "New"), peer=outside))
    txn = IllTransaction.objects.get(peer=outside, requesting_id="R-1")
    # Not yet RetryPossible: a Retry of a live request is refused.
    assert not _ok(ill.receive(_request(outside, "R-1", "Retry"), peer=outside))
    with django_capture_on_commit_callbacks(execute=False):
        ill.supplier_status(txn, "RetryPossible", reason="OnLoan", by=delivery_a)
    retry = _request(outside, "R-1", "Retry").replace(b"Forest soils", b"Forest soils, 2nd ed.")
    assert _ok(ill.receive(retry, peer=outside))
    txn.refresh_from_db()
    assert txn.iso_status == "" and txn.request.title == "Forest soils, 2nd ed."
    events = txn.request.events.count()
    assert _ok(ill.receive(_request(outside, "R-1", "Reminder"), peer=outside))
    assert txn.request.events.count() == events + 1
    # A reminder for a request we never had.
    assert not _ok(ill.receive(_request(outside, "R-404", "Reminder"), peer=outside))


def test_retry_after_sends_the_retry_when_due(
    library_a: Any, patron_a: Any, outside: Peer, django_capture_on_commit_callbacks: Any
) -> None:
    supplier = Supplier.objects.create(library=library_a, name="O", kind="outside", peer=outside)
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    with django_capture_on_commit_callbacks(execute=False):
        services.send_to_supplier(req, supplier)
    txn = IllTransaction.objects.get(request=req)
    later = timezone.now() + dt.timedelta(hours=3)
    message = build_supplying(
        txn, "RetryPossible", timezone.now(), reason_retry="OnLoan", retry_after=later
    )
    # As the supplier writes it: supplier and requester swapped (we are the requester).
    with django_capture_on_commit_callbacks(execute=False):
        assert _ok(ill.receive(message, peer=outside))
    retry = IsoMessage.objects.get(request=req, direction="out", status="Retry")
    assert retry.send_state == "pending" and retry.next_attempt_at == later
    assert b"<requestType>Retry</requestType>" in retry.xml.encode()
    # Not due yet: the retry job leaves it (the first Request counts as delivered here: no
    # traffic leaves the test).
    IsoMessage.objects.filter(request=req, status="New").update(send_state="sent")
    assert transport.retry_due(now=timezone.now()) == 0
    retry.refresh_from_db()
    assert retry.attempts == 0
