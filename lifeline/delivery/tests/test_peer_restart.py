"""The stand-in peer keeps its state on disk (`--state`): killed with SIGKILL half-way through
a transaction and started again on the same file, it still knows the transaction, sends what it
owed, and the exchange ends with nothing lost or applied twice (issue 20)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lifeline.delivery import services
from lifeline.delivery.choices import Status, SupplierKind
from lifeline.delivery.logic import ill
from lifeline.delivery.models import IllTransaction, IsoMessage, Peer, Supplier

from .conftest import ARTICLE
from .loopback import LoopbackPeer

pytestmark = pytest.mark.django_db(transaction=True)


def _start(target: str, state: Path, port: int = 0) -> LoopbackPeer:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "lifeline.delivery.peer", "--target", target,
            "--agency", "ISIL:DE-DISK", "--secret-out", "peer-to-us", "--secret-in", "us-to-peer",
            "--state", str(state), "--port", str(port),
        ],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY "), line
    return LoopbackPeer(proc, int(line.split()[1]))


def test_peer_killed_half_way_resumes_from_its_state(
    live_server: Any, settings: Any, library_a: Any, patron_a: Any, tmp_path: Path
) -> None:
    settings.SITE_URL = live_server.url
    target, state = f"{live_server.url}/delivery/iso18626/", tmp_path / "peer.sqlite3"
    node = _start(target, state)
    try:
        peer = Peer.objects.create(
            library=library_a, name="Disk peer", agency_id_type="ISIL", agency_id_value="DE-DISK",
            endpoint_url=node.endpoint, secret_out="us-to-peer", secret_in="peer-to-us",
            allow_internal=True,
        )  # fmt: skip
        supplier = Supplier.objects.create(
            library=library_a, name="Disk", kind=SupplierKind.OUTSIDE, peer=peer
        )
        req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
        services.send_to_supplier(req, supplier)
        txn = IllTransaction.objects.get(request=req)
        assert node.control("advance", id=txn.requesting_id)["sent"] == ["OK"]
        # Our StatusRequest is confirmed; the peer owes its StatusRequestResponse (not flushed).
        ill.requester_action(txn, "StatusRequest")
        assert node.state()["outbox"] == 1
        node.proc.kill()  # SIGKILL: no chance to save anything now
        node.proc.wait(timeout=10)

        node = _start(target, state, node.port)
        seen = node.state()
        assert seen["txns"][txn.requesting_id]["status"] == "WillSupply"
        assert seen["outbox"] == 1
        assert [m["kind"] for m in seen["received"]].count("request") == 1
        assert node.control("flush")["sent"] == ["OK"]  # the owed StatusRequestResponse
        assert node.control("advance", id=txn.requesting_id)["sent"] == ["OK"]  # CopyCompleted
        req.refresh_from_db()
        assert req.status == Status.DELIVERED and req.files.count() == 1
        # Everything we received was applied once: one row per message the peer sent.
        incoming = IsoMessage.objects.filter(transaction=txn, direction="in")
        assert sorted(incoming.values_list("status", flat=True)) == [
            "CopyCompleted",
            "WillSupply",
            "WillSupply",
        ]
        # Our Received reached the restarted peer.
        assert node.received(kind="requestingAgencyMessage", action="Received")
    finally:
        node.proc.terminate()
        node.proc.wait(timeout=10)
