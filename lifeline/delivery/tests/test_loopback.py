"""The whole ISO 18626 round trip over real HTTP against the loopback peer (its own process):
a copy and a loan in both roles to the end, a cancel with its CancelResponse, a RetryPossible
that moves to the next supplier, a status request, a delivery by URL, and bad delivery URLs."""

from __future__ import annotations

from typing import Any

import pytest

from lifeline.delivery import services
from lifeline.delivery.choices import Role, Status, SupplierKind
from lifeline.delivery.logic import ill
from lifeline.delivery.logic.peers import local_agency
from lifeline.delivery.models import DeliveryRequest, IllTransaction, IsoMessage, Peer, Supplier

from .conftest import ARTICLE, pdf
from .loopback import loopback_peer

pytestmark = pytest.mark.django_db(transaction=True)
BOOK = {"doc_type": "foreign_book", "title": "The Lord of the Rings", "isbn": "9780261102385"}


@pytest.fixture
def remote(live_server: Any, settings: Any, library_a: Any) -> Any:
    settings.SITE_URL = live_server.url
    with loopback_peer(
        f"{live_server.url}/delivery/iso18626/",
        "--agency", "ISIL:DE-PEER", "--secret-out", "peer-to-us", "--secret-in", "us-to-peer",
    ) as node:  # fmt: skip
        peer = Peer.objects.create(
            library=library_a,
            name="Outside library",
            agency_id_type="ISIL",
            agency_id_value="DE-PEER",
            endpoint_url=node.endpoint,
            secret_out="us-to-peer",
            secret_in="peer-to-us",
            allow_internal=True,  # set by an admin: the peer lives on 127.0.0.1
            loan=True,
        )
        supplier = Supplier.objects.create(
            library=library_a, name="Outside", kind=SupplierKind.OUTSIDE, peer=peer, rota=1
        )
        yield node, peer, supplier


def _txn(req: DeliveryRequest) -> IllTransaction:
    return IllTransaction.objects.filter(request=req).order_by("-id").first()  # type: ignore[return-value]


def test_copy_as_requester_with_delivery_by_url(
    remote: Any, library_a: Any, patron_a: Any, delivery_a: Any
) -> None:
    node, _peer, supplier = remote
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    txn = _txn(req)
    assert node.received(kind="request", id=txn.requesting_id)
    assert node.control("advance", id=txn.requesting_id)["sent"] == ["OK"]
    txn.refresh_from_db()
    assert txn.iso_status == "WillSupply"
    assert node.control("advance", id=txn.requesting_id)["sent"] == ["OK"]
    req.refresh_from_db()
    assert req.status == Status.DELIVERED
    assert req.files.get().file.read().startswith(b"%PDF")
    # Received goes back for a copy: the transaction ends on both sides.
    assert node.received(kind="requestingAgencyMessage", action="Received", id=txn.requesting_id)
    out = IsoMessage.objects.filter(transaction=txn, direction="out")
    assert {m.send_state for m in out} == {"sent"}
    # A status request gets its StatusRequestResponse.
    ill.requester_action(txn, "StatusRequest")
    node.control("flush")
    assert (
        IsoMessage.objects.filter(
            transaction=txn, direction="in", kind="supplyingAgencyMessage", answer__contains="OK"
        ).count()
        == 3
    )


def test_loan_as_requester_renew_and_return(
    remote: Any, library_a: Any, patron_a: Any, delivery_a: Any
) -> None:
    node, _peer, supplier = remote
    req, _ = services.submit(library_a, BOOK, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    txn = _txn(req)
    assert txn.service_type == "Loan"
    node.control("script", id=txn.requesting_id, script=["WillSupply", "Loaned"])
    node.control("advance", id=txn.requesting_id)
    node.control("advance", id=txn.requesting_id)
    txn.refresh_from_db()
    req.refresh_from_db()
    assert (txn.iso_status, req.status) == ("Loaned", Status.DELIVERED)
    first_due = txn.loan_due
    ill.requester_action(txn, "Renew")
    node.control("flush")  # the RenewResponse
    txn.refresh_from_db()
    assert txn.loan_due is not None and first_due is not None and txn.loan_due > first_due
    ill.requester_action(txn, "ShippedReturn")
    node.control("flush")  # LoanCompleted
    txn.refresh_from_db()
    assert txn.iso_status == "LoanCompleted"


def test_cancel_gets_its_cancel_response(
    remote: Any, library_a: Any, patron_a: Any, delivery_a: Any
) -> None:
    node, _peer, supplier = remote
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    txn = _txn(req)
    services.cancel(req, by=patron_a)
    assert node.received(kind="requestingAgencyMessage", action="Cancel")
    node.control("flush")
    txn.refresh_from_db()
    req.refresh_from_db()
    assert (txn.iso_status, txn.cancel_asked, req.status) == ("Cancelled", False, Status.CANCELLED)
    answer = IsoMessage.objects.get(transaction=txn, direction="in", status="Cancelled")
    assert "CancelResponse" in answer.xml and "<answerYesNo>Y</answerYesNo>" in answer.xml


def test_retry_possible_moves_to_the_next_supplier(
    remote: Any, library_a: Any, library_b: Any, patron_a: Any, delivery_a: Any
) -> None:
    node, _peer, supplier = remote
    Supplier.objects.create(
        library=library_a, name="哈工大", kind=SupplierKind.PARTNER, partner=library_b, rota=2
    )
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    first = _txn(req)
    node.control("script", id=first.requesting_id, script=["RetryPossible"])
    node.control("advance", id=first.requesting_id)
    first.refresh_from_db()
    assert first.iso_status == "RetryPossible" and first.reason == "OnLoan"
    second = _txn(req)
    assert second.peer.partner == library_b and second.pk != first.pk
    assert DeliveryRequest.objects.filter(library=library_b, origin=req).exists()


def test_copy_and_loan_as_supplier(remote: Any, library_a: Any, delivery_a: Any) -> None:
    node, peer, _supplier = remote
    me = ":".join(local_agency(library_a))
    # Copy: the peer asks us, with its own id shape; we supply a file by URL.
    sent = node.control(
        "request", id="peer/2024/0001", supplier=me, title="On trees", service="Copy"
    )
    assert sent["sent"] == ["OK"]
    theirs = IllTransaction.objects.get(
        peer=peer, role=Role.SUPPLIER, requesting_id="peer/2024/0001"
    )
    ill.supplier_status(theirs, "WillSupply", by=delivery_a)
    services.deliver(theirs.request, pdf(), by=delivery_a)
    done = node.received(kind="supplyingAgencyMessage", status="CopyCompleted")
    assert done and "/delivery/iso18626/doc/" in done[0]["itemId"]
    node.control("action", id="peer/2024/0001", action="Received")
    theirs.refresh_from_db()
    assert theirs.iso_status == "CopyCompleted"
    # Loan: shipped, renewed at the peer's request, returned.
    node.control("request", id="peer-loan-7", supplier=me, title="A book", service="Loan")
    loan = IllTransaction.objects.get(peer=peer, requesting_id="peer-loan-7")
    ill.supplier_status(loan, "WillSupply", by=delivery_a)
    ill.supplier_status(loan, "Loaned", by=delivery_a)
    node.control("action", id="peer-loan-7", action="Renew")
    assert node.received(reason="RenewResponse")
    node.control("action", id="peer-loan-7", action="ShippedReturn")
    loan.refresh_from_db()
    assert loan.iso_status == "LoanCompleted"
    assert node.received(kind="supplyingAgencyMessage", status="LoanCompleted")
    # A loan status on the copy is refused with the standard error, nothing changes.
    assert node.control("action", id="peer/2024/0001", action="Renew")["sent"] == ["ERROR"]


@pytest.mark.parametrize("path", ["fake.pdf", "huge.pdf"])
def test_bad_documents_behind_the_url_are_refused(
    remote: Any, library_a: Any, patron_a: Any, delivery_a: Any, path: str
) -> None:
    node, _peer, supplier = remote
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    txn = _txn(req)
    node.control(
        "script", id=txn.requesting_id, script=["CopyCompleted"], url=f"{node.url}/doc/{path}"
    )
    assert node.control("advance", id=txn.requesting_id)["sent"] == ["ERROR"]
    req.refresh_from_db()
    txn.refresh_from_db()
    assert (req.status, txn.iso_status, req.files.count()) == (Status.REQUESTED, "", 0)


def test_delivery_url_on_a_private_address_is_refused(
    remote: Any, library_a: Any, patron_a: Any, delivery_a: Any
) -> None:
    node, peer, supplier = remote
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    txn = _txn(req)
    # The admin's loopback allowance withdrawn: the fetcher refuses any internal address before
    # connecting (no packet leaves for 10.1.2.3).
    Peer.objects.filter(pk=peer.pk).update(allow_internal=False)
    node.control(
        "script", id=txn.requesting_id, script=["CopyCompleted"], url="http://10.1.2.3/a.pdf"
    )
    assert node.control("advance", id=txn.requesting_id)["sent"] == ["ERROR"]
    req.refresh_from_db()
    assert req.status == Status.REQUESTED
    error = IsoMessage.objects.get(direction="in", outcome="error")
    assert "fetched" in error.error and req.files.count() == 0


def test_a_peer_that_is_down_gets_the_message_later(
    remote: Any, library_a: Any, patron_a: Any, delivery_a: Any
) -> None:
    from django.utils import timezone

    from lifeline.delivery.logic import transport

    node, peer, supplier = remote
    real = peer.endpoint_url
    Peer.objects.filter(pk=peer.pk).update(endpoint_url="http://127.0.0.1:9/iso18626")
    supplier.refresh_from_db()
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    msg = IsoMessage.objects.get(request=req, direction="out")
    assert (msg.send_state, msg.attempts) == ("pending", 1)
    peer.refresh_from_db()
    assert peer.health == "down"
    Peer.objects.filter(pk=peer.pk).update(endpoint_url=real)
    assert transport.retry_due(now=timezone.now() + transport.backoff(1)) == 1
    msg.refresh_from_db()
    assert (msg.send_state, msg.attempts) == ("sent", 2)
    assert len(node.received(kind="request")) == 1
