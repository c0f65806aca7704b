"""Real ISO 18626 messages written by Index Data's crosslink (Go; tests/data/iso18626, see its
README), read as crosslink means them: a second implementation besides ReShare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from lifeline.delivery.choices import Role, Status
from lifeline.delivery.logic import ill, iso18626
from lifeline.delivery.models import AgencyId, DeliveryRequest, IllTransaction, IsoMessage, Peer

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data" / "iso18626"
NS = {"i": iso18626.NS}


def _peer(library: Any, ours: str, theirs: str) -> Peer:
    AgencyId.objects.create(library=library, agency_id_type="ISIL", agency_id_value=ours)
    return Peer.objects.create(
        library=library, name="crosslink", agency_id_type="ISIL", agency_id_value=theirs,
        endpoint_url="https://crosslink.example.org/iso18626", loan=True,
    )  # fmt: skip


def _answer(answer: bytes) -> tuple[str, str, str]:
    iso18626.validate(answer)
    root = etree.fromstring(answer)
    return (
        root.findtext(".//i:messageStatus", namespaces=NS) or "",
        root.findtext(".//i:errorValue", namespaces=NS) or "",
        root.findtext(".//i:requestingAgencyRequestId", namespaces=NS) or "",
    )


def test_crosslink_mock_request_with_generated_prefixes(library_a: Any) -> None:
    peer = _peer(library_a, "BROKER", "REQ")
    answer = ill.receive((DATA / "crosslink-illmock-req.xml").read_bytes(), peer=peer)
    assert _answer(answer) == ("OK", "", "js-test-1017")
    txn = IllTransaction.objects.get(peer=peer, role=Role.SUPPLIER, requesting_id="js-test-1017")
    req = txn.request
    assert (txn.service_type, req.title, req.authors, req.status) == (
        "Loan",
        "Lord of the Rings",
        "JRR Tolkien",
        Status.SUBMITTED,
    )
    assert "1983" in req.note and req.isbn == ""  # no ISBN: kept in the note, not trusted


def _asked(library: Any, peer: Peer, requesting_id: str) -> IllTransaction:
    req = DeliveryRequest.objects.create(
        library=library, title="Lord of the Rings", item_key="crosslink:1", doc_type="foreign_book"
    )
    req.move(Status.REQUESTED, by="test")
    return IllTransaction.objects.create(
        library=library, request=req, peer=peer, role=Role.REQUESTER,
        requesting_id=requesting_id, service_type="Loan",
    )  # fmt: skip


def test_crosslink_loaned_status_change_with_nanosecond_times(library_a: Any) -> None:
    peer = _peer(library_a, "SUP_A", "SUP_B")
    txn = _asked(library_a, peer, "6ad1ff2e-bab2-4978-b064-656c0e67ebd6")
    answer = ill.receive((DATA / "crosslink-supmsg-ok.xml").read_bytes(), peer=peer)
    assert _answer(answer)[:2] == ("OK", "")
    txn.refresh_from_db()
    txn.request.refresh_from_db()
    assert (txn.iso_status, txn.supplying_id, txn.request.status) == (
        "Loaned",
        "c488bef0-5735-4c33-ba13-a9f343447574",
        Status.DELIVERED,
    )
    assert txn.peer_timestamp is not None and txn.peer_timestamp.microsecond == 629597


def test_crosslink_cancel_gets_a_cancel_response(library_a: Any) -> None:
    peer = _peer(library_a, "SLNP_TWO_A", "SLNP_ONE")
    request = (DATA / "crosslink-illmock-req.xml").read_bytes()
    for old, new in (
        (b"BROKER", b"SLNP_TWO_A"),
        (b"REQ<", b"SLNP_ONE<"),
        (b"js-test-1017", b"reqid"),
    ):
        request = request.replace(old, new)
    request = request.replace(b"2024-11-28T10:25:11.136Z", b"2024-12-12T20:00:00Z")
    assert _answer(ill.receive(request, peer=peer))[0] == "OK"
    answer = ill.receive((DATA / "crosslink-reqmsg-ok.xml").read_bytes(), peer=peer)
    assert _answer(answer) == ("OK", "", "reqid")
    assert etree.fromstring(answer).findtext(".//i:action", namespaces=NS) == "Cancel"
    txn = IllTransaction.objects.get(peer=peer, requesting_id="reqid")
    txn.request.refresh_from_db()
    assert (txn.iso_status, txn.request.status) == ("Cancelled", Status.CANCELLED)
    # Our CancelResponse (yes) is kept for sending to crosslink.
    response = IsoMessage.objects.get(transaction=txn, direction="out")
    assert "<reasonForMessage>CancelResponse</reasonForMessage>" in response.xml
    assert "<answerYesNo>Y</answerYesNo>" in response.xml
