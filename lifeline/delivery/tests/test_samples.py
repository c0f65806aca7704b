"""Real ISO 18626 messages written by Project ReShare (tests/data/iso18626, see its README),
read as ReShare means them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from lifeline.delivery import services
from lifeline.delivery.choices import Role, Status
from lifeline.delivery.logic import ill, iso18626
from lifeline.delivery.models import AgencyId, IllTransaction, IsoMessage, Peer, Supplier

from .conftest import ARTICLE

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data" / "iso18626"
NS = {"i": iso18626.NS}


@pytest.fixture
def reshare(library_a: Any) -> Peer:
    AgencyId.objects.create(library=library_a, agency_id_type="ISIL", agency_id_value="US-REQ")
    return Peer.objects.create(
        library=library_a,
        name="ReShare library",
        agency_id_type="ISIL",
        agency_id_value="US-SUP",
        endpoint_url="https://reshare.example.org/rs/externalApi/iso18626",
        secret_in="x",
    )


def _fill(name: str, txn: IllTransaction, **more: str) -> bytes:
    text = (DATA / name).read_text()
    for old, new in {
        "_SUPPLY_AGENCY_ID_": "US-SUP",
        "_REQUEST_AGENCY_ID_": "US-REQ",
        "_REQUEST_ID_": txn.requesting_id,
        "_TIMESTAMP_": "2024-01-02T03:04:05Z",
        **more,
    }.items():
        text = text.replace(old, new)
    return text.encode()


def _status(answer: bytes) -> tuple[str, str]:
    root = etree.fromstring(answer)
    return (
        root.findtext(".//i:messageStatus", namespaces=NS) or "",
        root.findtext(".//i:errorValue", namespaces=NS) or "",
    )


def _asked(library_a: Any, patron_a: Any, reshare: Peer) -> IllTransaction:
    supplier = Supplier.objects.create(library=library_a, name="RS", kind="outside", peer=reshare)
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier)
    return IllTransaction.objects.get(request=req)


def test_reshare_loan_request_is_accepted(library_a: Any) -> None:
    AgencyId.objects.create(library=library_a, agency_id_type="DMMY", agency_id_value="NIA1")
    peer = Peer.objects.create(
        library=library_a, name="mock", agency_id_type="DMMY", agency_id_value="NIA2",
        endpoint_url="https://peer.example.org/iso18626",
    )  # fmt: skip
    answer = ill.receive((DATA / "illmockrequest.xml").read_bytes(), peer=peer)
    assert _status(answer) == ("OK", "")
    txn = IllTransaction.objects.get(peer=peer, role=Role.SUPPLIER, requesting_id="DMMYNIA2-1")
    req = txn.request
    assert (txn.service_type, req.title, req.authors, req.library) == (
        "Loan",
        "Layered of the Rungs",
        "Junior Tooken",
        library_a,
    )
    assert "1884" in req.note and req.isbn == ""  # not a valid ISBN: kept, not trusted
    # Sent again (ReShare retries on a timeout): the same answer, one request.
    again = ill.receive((DATA / "illmockrequest.xml").read_bytes(), peer=peer)
    assert _status(again) == ("OK", "") and IllTransaction.objects.filter(peer=peer).count() == 1


def test_reshare_status_changes_and_cancel_response(
    library_a: Any, patron_a: Any, reshare: Peer
) -> None:
    txn = _asked(library_a, patron_a, reshare)
    ok = ill.receive(_fill("statusChangeExpectToSupplyTemplate.xml", txn), peer=reshare)
    assert _status(ok) == ("OK", "")
    txn.refresh_from_db()
    assert txn.iso_status == "ExpectToSupply"
    # ReShare's "yes, cancelled" carries the status it had: cancelled all the same.
    later = _fill(
        "cancelResponseExpectToSupplyTemplate.xml", txn, _TIMESTAMP_="2024-01-02T04:00:00Z"
    )
    assert _status(ill.receive(later, peer=reshare)) == ("OK", "")
    txn.refresh_from_db()
    txn.request.refresh_from_db()
    assert (txn.iso_status, txn.request.status) == ("Cancelled", Status.CANCELLED)


def test_reshare_unfilled_returns_to_staff(library_a: Any, patron_a: Any, reshare: Peer) -> None:
    txn = _asked(library_a, patron_a, reshare)
    assert (
        _status(ill.receive(_fill("statusChangeUnfilledTemplate.xml", txn), peer=reshare))[0]
        == "OK"
    )
    txn.request.refresh_from_db()
    assert txn.request.status == Status.IN_PROCESS


@pytest.mark.parametrize(
    ("name", "fill"),
    [
        ("supplyingAgencyMessage_statusChange.xml", {"status_holder": "Loaned"}),
        ("cancelResponseReplyNoTemplate.xml", {}),
    ],
)
def test_reshare_messages_invalid_in_v12_get_the_standard_error(
    library_a: Any, patron_a: Any, reshare: Peer, name: str, fill: dict[str, str]
) -> None:
    txn = _asked(library_a, patron_a, reshare)
    fill = {
        "requestId_holder": txn.requesting_id,
        "supAgencyIdValue_holder": "US-SUP",
        "agencyIdValue_holder": "US-REQ",
        **fill,
    }
    answer = ill.receive(_fill(name, txn, **fill), peer=reshare)
    root = etree.fromstring(answer)
    iso18626.validate(answer)
    assert root.findtext(".//i:errorType", namespaces=NS) == "BadlyFormedMessage"
    # The ids it could read are echoed.
    assert root.findtext(".//i:requestingAgencyRequestId", namespaces=NS) == txn.requesting_id
    assert root.findtext(".//i:supplyingAgencyId/i:agencyIdValue", namespaces=NS) == "US-SUP"
    txn.refresh_from_db()
    assert txn.iso_status == "" and IsoMessage.objects.filter(outcome="error").count() == 1


def test_lenient_reading_is_only_about_form(library_a: Any) -> None:
    """Normalising drops empty elements and fixes namespaces and offsets, nothing else."""
    root = iso18626.validate((DATA / "statusChangeUnfilledTemplate.xml").read_bytes().replace(
        b"_TIMESTAMP_", b"2024-01-02T03:04:05+0800"
    ))  # fmt: skip
    stamp = root.findtext(".//i:timestamp", namespaces=NS)
    assert stamp == "2024-01-02T03:04:05+08:00"
    assert iso18626.parse_time(stamp) == dt.datetime(2024, 1, 1, 19, 4, 5, tzinfo=dt.UTC)
