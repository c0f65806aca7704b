"""Two libraries of one installation: the in-process shortcut and real HTTP between them end the
same (statuses, ISO 18626 statuses, messages, files)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lifeline.delivery import services
from lifeline.delivery.choices import Role
from lifeline.delivery.logic import ill
from lifeline.delivery.logic.peers import local_agency
from lifeline.delivery.models import DeliveryRequest, IllTransaction, IsoMessage, Peer, Supplier

from .conftest import ARTICLE, pdf

pytestmark = pytest.mark.django_db(transaction=True)
SEEN: dict[str, Any] = {}


def _run(library_a: Any, library_b: Any, patron_a: Any, delivery_a: Any, librarian_b: Any) -> Any:
    supplier = Supplier.objects.get(library=library_a, partner=library_b)
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    services.send_to_supplier(req, supplier, by=delivery_a)
    theirs = IllTransaction.objects.get(library=library_b, role=Role.SUPPLIER)
    ill.supplier_status(theirs, "WillSupply", by=librarian_b)
    ill.requester_action(IllTransaction.objects.get(request=req), "StatusRequest")
    services.deliver(theirs.request, pdf(), by=librarian_b)
    req.refresh_from_db()
    theirs.refresh_from_db()
    ours = IllTransaction.objects.get(request=req)
    messages = Counter(
        (m.library.code, m.direction, m.kind, m.status, m.outcome, m.send_state)
        for m in IsoMessage.objects.select_related("library")
    )
    return (
        req.status,
        req.files.count(),
        ours.iso_status,
        theirs.iso_status,
        DeliveryRequest.objects.get(library=library_b, origin=req).status,
        sorted(messages.items()),
    )


@pytest.mark.parametrize("mode", ["in_process", "http"])
def test_in_process_and_http_end_the_same(
    mode: str,
    live_server: Any,
    settings: Any,
    library_a: Any,
    library_b: Any,
    patron_a: Any,
    delivery_a: Any,
    librarian_b: Any,
) -> None:
    settings.SITE_URL = live_server.url
    Supplier.objects.create(library=library_a, name="B", kind="partner", partner=library_b)
    if mode == "http":
        endpoint = f"{live_server.url}/delivery/iso18626/"
        for mine, other, out, into in (
            (library_a, library_b, "a-to-b", "b-to-a"),
            (library_b, library_a, "b-to-a", "a-to-b"),
        ):
            kind, value = local_agency(other)
            Peer.objects.create(
                library=mine, partner=other, name=other.name, agency_id_type=kind,
                agency_id_value=value, endpoint_url=endpoint, secret_out=out, secret_in=into,
                allow_internal=True,
            )  # fmt: skip
    result = _run(library_a, library_b, patron_a, delivery_a, librarian_b)
    assert result[:5] == ("delivered", 1, "CopyCompleted", "CopyCompleted", "delivered")
    # The message logs are the same too (compared when both modes ran in this process).
    SEEN[mode] = result[5]
    if len(SEEN) == 2:
        assert SEEN["in_process"] == SEEN["http"]
