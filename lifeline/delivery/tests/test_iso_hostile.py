"""Bad input at the ISO 18626 endpoint and on the ISO 18626 buttons: each gets the standard
error confirmation or a clear refusal, and nothing is half-applied."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from lxml import etree

from lifeline.conftest import client_for
from lifeline.delivery import services
from lifeline.delivery.logic import iso18626
from lifeline.delivery.logic.builders import build_supplying
from lifeline.delivery.logic.peers import local_agency
from lifeline.delivery.models import IllTransaction, IsoMessage, Peer, Supplier

from .conftest import ARTICLE

pytestmark = pytest.mark.django_db
NS = {"i": iso18626.NS}
URL = "/delivery/iso18626/"


@pytest.fixture
def outside(library_a: Any) -> Peer:
    return Peer.objects.create(
        library=library_a,
        name="Outside",
        agency_id_type="ISIL",
        agency_id_value="DE-1",
        endpoint_url="https://ill.example.org/iso18626",
        secret_in="s3cret",
        secret_out="out",
    )


@pytest.fixture
def asked(
    library_a: Any, patron_a: Any, outside: Peer, django_capture_on_commit_callbacks: Any
) -> IllTransaction:
    """A request of A sent to the outside peer (the HTTP send itself is not run)."""
    supplier = Supplier.objects.create(library=library_a, name="O", kind="outside", peer=outside)
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    with django_capture_on_commit_callbacks(execute=False):
        services.send_to_supplier(req, supplier)
    return IllTransaction.objects.get(request=req)


def post(client: Any, xml: bytes, secret: str = "s3cret", **extra: Any) -> Any:  # noqa: S107
    return client.post(
        URL, xml, content_type="application/xml", HTTP_X_ISO18626_SECRET=secret, **extra
    )


def status_of(response: Any) -> tuple[str, str, str]:
    root = etree.fromstring(response.content)
    return (
        root.findtext(".//i:messageStatus", namespaces=NS) or "",
        root.findtext(".//i:errorType", namespaces=NS) or "",
        root.findtext(".//i:errorValue", namespaces=NS) or "",
    )


def supplying(txn: IllTransaction, status: str, at: dt.datetime, **kw: Any) -> bytes:
    return build_supplying(txn, status, at, **kw)


def test_status_moves_once_and_replay_changes_nothing(client: Any, asked: IllTransaction) -> None:
    at = timezone.now()
    xml = supplying(asked, "WillSupply", at)
    assert status_of(post(client, xml))[0] == "OK"
    events = asked.request.events.count()
    again = post(client, xml)
    assert status_of(again)[0] == "OK"
    assert asked.request.events.count() == events
    assert IsoMessage.objects.filter(direction="in", transaction=asked).count() == 1
    # The same message with the sender's idempotency key, twice: once.
    other = supplying(asked, "ExpectToSupply", at + dt.timedelta(seconds=1))
    post(client, other, HTTP_IDEMPOTENCY_KEY="k-1")
    post(client, other, HTTP_IDEMPOTENCY_KEY="k-1")
    assert IsoMessage.objects.filter(direction="in", transaction=asked).count() == 2


def test_out_of_order_and_out_of_state_are_refused(client: Any, asked: IllTransaction) -> None:
    at = timezone.now()
    assert status_of(post(client, supplying(asked, "WillSupply", at)))[0] == "OK"
    # Older than the last one applied: sent out of order.
    old = supplying(asked, "ExpectToSupply", at - dt.timedelta(minutes=5))
    assert status_of(post(client, old))[:2] == ("ERROR", "UnrecognisedDataValue")
    # A loan status on a copy; Overdue before anything was lent.
    assert (
        status_of(post(client, supplying(asked, "Overdue", at + dt.timedelta(seconds=1))))[0]
        == "ERROR"
    )
    asked.refresh_from_db()
    assert asked.iso_status == "WillSupply"


def test_error_text_is_english_whatever_the_language(client: Any, asked: IllTransaction) -> None:
    bad = supplying(asked, "WillSupply", timezone.now()).replace(b">WillSupply<", b">Teleported<")
    with translation.override("zh-hans"):
        answer = post(client, bad)
    value = status_of(answer)[2]
    assert "schema" in value and not any("\u4e00" <= ch <= "\u9fff" for ch in value)


@pytest.mark.parametrize(
    "xml",
    [
        b"<not xml",
        b"<request xmlns='http://illtransactions.org/2013/iso18626'><header/></request>",
        b"<ISO18626Message xmlns='http://illtransactions.org/2013/iso18626' "
        b"xmlns:i='http://illtransactions.org/2013/iso18626' i:version='1.2'>"
        b"<request/></ISO18626Message>",
    ],
)
def test_malformed_messages_get_badly_formed(
    client: Any, asked: IllTransaction, xml: bytes
) -> None:
    response = post(client, xml)
    assert response.status_code == 200
    assert (
        status_of(response)[:2] == ("ERROR", "BadlyFormedMessage")
        or status_of(response)[0] == "ERROR"
    )
    assert asked.request.events.count() == 2


def test_envelope_missing_echoes_the_ids_it_read(client: Any, asked: IllTransaction) -> None:
    full = etree.fromstring(supplying(asked, "WillSupply", timezone.now()))
    bare = etree.tostring(full[0])  # the supplyingAgencyMessage without its envelope
    answer = etree.fromstring(post(client, bare).content)
    assert answer[0].tag.endswith("supplyingAgencyMessageConfirmation")
    assert answer.findtext(".//i:requestingAgencyRequestId", namespaces=NS) == asked.requesting_id
    assert answer.findtext(".//i:errorType", namespaces=NS) == "BadlyFormedMessage"


def test_agency_type_mismatch_and_unknown_agency(client: Any, asked: IllTransaction) -> None:
    xml = supplying(asked, "WillSupply", timezone.now())
    root = etree.fromstring(xml)
    root.find(".//i:supplyingAgencyId/i:agencyIdType", namespaces=NS).text = "OCLC"
    wrong_type = etree.tostring(root)
    kind, etype, value = status_of(post(client, wrong_type))
    assert (kind, etype) == ("ERROR", "UnrecognisedDataValue") and "OCLC" in value
    unknown = xml.replace(b"DE-1", b"XX-NOBODY")
    assert status_of(post(client, unknown))[0] == "ERROR"
    asked.refresh_from_db()
    assert asked.iso_status == ""


def test_a_peer_cannot_speak_for_another_peers_request(
    client: Any, library_a: Any, asked: IllTransaction
) -> None:
    Peer.objects.create(
        library=library_a, name="Other", agency_id_type="ISIL", agency_id_value="DE-2",
        endpoint_url="https://other.example.org/iso18626", secret_in="other",
    )  # fmt: skip
    xml = supplying(asked, "WillSupply", timezone.now()).replace(b"DE-1", b"DE-2")
    assert status_of(post(client, xml, secret="other"))[:2] == ("ERROR", "UnrecognisedDataValue")
    # Its own secret, but the header naming the first peer: the secret is the first peer's no more.
    forged = supplying(asked, "WillSupply", timezone.now())
    assert post(client, forged, secret="other").status_code == 401
    asked.refresh_from_db()
    assert asked.iso_status == ""


def test_credentials(client: Any, outside: Peer, asked: IllTransaction) -> None:
    xml = supplying(asked, "WillSupply", timezone.now())
    assert post(client, xml, secret="").status_code == 401
    assert post(client, xml, secret="wrong").status_code == 401
    Peer.objects.filter(pk=outside.pk).update(allowed_sources="192.0.2.0/24")
    assert post(client, xml).status_code == 403  # the test client comes from 127.0.0.1
    assert post(client, xml, REMOTE_ADDR="192.0.2.7").status_code == 200
    Peer.objects.filter(pk=outside.pk).update(allowed_sources="", peer_cert_sha256="AB:CD")
    assert post(client, xml).status_code == 403
    assert post(client, xml, HTTP_X_SSL_CLIENT_SHA256="abcd").status_code == 200
    big = b"<x>" + b"a" * 1_000_001 + b"</x>"
    assert post(client, big).status_code == 413


def test_iso_buttons_refuse_strangers(
    client: Any, asked: IllTransaction, librarian_b: Any, patron_a: Any, delivery_a: Any
) -> None:
    url = reverse("delivery:iso_act", args=[asked.request_id, asked.pk])
    for user in (librarian_b, patron_a):
        assert client_for(user).post(url, {"value": "Cancel"}).status_code == 404
    assert client.post(url, {"value": "Cancel"}).status_code == 302
    # Staff of A: an action that does not fit is a message on the page, not a 500.
    response = client_for(delivery_a).post(url, {"value": "Renew"})
    assert response.status_code == 302
    assert not IsoMessage.objects.filter(status="Renew").exists()
    page = client_for(delivery_a).get(reverse("delivery:detail", args=[asked.request_id]))
    assert page.status_code == 200 and asked.requesting_id.encode() in page.content


def test_document_links_only_for_supplied_files(
    client: Any, library_a: Any, patron_a: Any, delivery_a: Any
) -> None:
    from .conftest import pdf

    req, _ = services.submit(library_a, ARTICLE, patron=patron_a)
    f = services.deliver(req, pdf(), by=delivery_a)
    # A patron's own delivery is not reachable by token alone.
    assert client.get(reverse("delivery:iso_document", args=[f.token])).status_code == 404
    assert client.get(reverse("delivery:iso_document", args=["nope"])).status_code == 404


def test_our_agency_defaults_and_is_used(library_a: Any) -> None:
    assert local_agency(library_a) == ("ISIL", library_a.code.upper())


def test_proven_peers_are_not_throttled_refused_senders_are(
    client: Any, asked: IllTransaction, library_a: Any, settings: Any
) -> None:
    """The anonymous form limit (issue 16) once answered 429 to a peer's hundredth message of
    the hour; a peer that proves itself is never counted, a sender that fails its proof is."""
    from django.core.cache import cache

    from lifeline.core import ratelimit
    from lifeline.core.models import Library

    settings.RATE_LIMITS, settings.DEFAULT_LIBRARY = True, library_a.code
    Library.objects.filter(pk=library_a.pk).update(anon_forms_per_hour=2)
    cache.clear()
    ratelimit.forget()
    at = timezone.now()
    statuses = ["ExpectToSupply", "WillSupply", "WillSupply", "WillSupply"]
    for i, status in enumerate(statuses):
        answer = post(client, supplying(asked, status, at + dt.timedelta(seconds=i)))
        assert answer.status_code == 200 and status_of(answer)[0] == "OK"
    wrong = [post(client, supplying(asked, "WillSupply", at), secret="nope") for _ in range(3)]
    assert [r.status_code for r in wrong] == [401, 401, 429]
    assert int(wrong[2]["Retry-After"]) >= 1
    cache.clear()
    ratelimit.forget()


def test_refused_copy_completed_sent_again_is_judged_again(
    client: Any, asked: IllTransaction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supplier's document server was down when its CopyCompleted arrived (the bench kills
    the stand-in peer half-way): the refusal names the failure in English, and the same message
    sent again once the server is back is applied, not answered with the old error."""
    from lifeline.delivery.logic import urldelivery

    Peer.objects.filter(pk=asked.peer_id).update(allow_internal=True)
    at = timezone.now()
    assert status_of(post(client, supplying(asked, "WillSupply", at)))[0] == "OK"
    url = "http://127.0.0.1:9/doc.pdf"  # nothing listens there
    done = supplying(asked, "CopyCompleted", at + dt.timedelta(seconds=1), sent_url=url)
    with translation.override("zh-hans"):
        first = status_of(post(client, done, HTTP_IDEMPOTENCY_KEY="copy-1"))
    assert first[0] == "ERROR" and "could not be fetched" in first[2]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in first[2])
    monkeypatch.setattr(urldelivery, "fetch_pdf", lambda url, allow_internal: b"%PDF-1.4\n%%EOF\n")
    assert status_of(post(client, done, HTTP_IDEMPOTENCY_KEY="copy-1"))[0] == "OK"
    asked.request.refresh_from_db()
    assert asked.request.status == "delivered" and asked.request.files.count() == 1
    # Applied once: a third copy is answered from the record.
    assert status_of(post(client, done, HTTP_IDEMPOTENCY_KEY="copy-1"))[0] == "OK"
    assert asked.request.files.count() == 1
