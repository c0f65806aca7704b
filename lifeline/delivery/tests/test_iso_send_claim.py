"""The send of a new transaction's first message: written already claimed when this process
sends it after commit (immediate tasks), so it is posted once without a claim of its own; with a
task queue it is written unclaimed and left to the queue's worker. Either way a failed post
leaves it to `retry_due` after the back-off, and it is never sent twice."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from lifeline.core import outbound
from lifeline.delivery import services
from lifeline.delivery.choices import SupplierKind
from lifeline.delivery.logic import rawsql, transport
from lifeline.delivery.models import DeliveryRequest, IsoMessage, Peer, Supplier

from .test_iso_queries import _confirm

pytestmark = pytest.mark.django_db


def _setup(library: Any) -> tuple[Supplier, DeliveryRequest]:
    peer = Peer.objects.create(
        library=library,
        name="Claim peer",
        agency_id_type="ISIL",
        agency_id_value="ZZ-CLAIM",
        endpoint_url="http://127.0.0.1:9/iso18626",
        secret_in="peer-secret",
        secret_out="our-secret",
        allow_internal=True,
    )
    supplier = Supplier.objects.create(
        library=library, name="Claim peer", kind=SupplierKind.OUTSIDE, peer=peer
    )
    req = DeliveryRequest.objects.create(library=library, title="A paper", item_key="claim:1")
    return supplier, req


def test_first_message_is_sent_once_without_a_second_claim(
    library_a: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    posts: list[str] = []

    def post(peer: Peer, xml: bytes, key: str) -> bytes:
        posts.append(key)
        return _confirm(peer, xml, key)

    monkeypatch.setattr(transport, "post", post)
    supplier, req = _setup(library_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_to_supplier(req, supplier)
    msg = IsoMessage.objects.get(request=req, direction="out", kind="request")
    assert msg.send_state == "sent" and msg.attempts == 1 and msg.next_attempt_at is None
    assert posts == [msg.idempotency_key]
    # Neither the periodic job nor a stray task sends it again.
    assert transport.retry_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert transport.attempt(msg.pk) == "sent"
    assert len(posts) == 1


def test_first_message_whose_post_fails_waits_for_the_back_off(
    library_a: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def down(peer: Peer, xml: bytes, key: str) -> bytes:
        raise outbound.OutboundFailed("connection refused")

    monkeypatch.setattr(transport, "post", down)
    supplier, req = _setup(library_a)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.send_to_supplier(req, supplier)
    msg = IsoMessage.objects.get(request=req, direction="out", kind="request")
    assert msg.send_state == "pending" and msg.attempts == 1
    assert msg.next_attempt_at is not None
    assert msg.next_attempt_at >= before + transport.backoff(1)
    # Not due before the back-off; sent once when it is.
    assert transport.retry_due(now=before) == 0
    monkeypatch.setattr(transport, "post", _confirm)
    assert transport.retry_due(now=msg.next_attempt_at) == 1
    msg.refresh_from_db()
    assert msg.send_state == "sent" and msg.attempts == 2


def test_with_a_task_queue_the_first_message_is_left_to_the_worker(
    library_a: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from lifeline.delivery import tasks

    monkeypatch.setattr(transport, "post", _confirm)
    enqueued: list[int] = []
    monkeypatch.setattr(transport, "_immediate", lambda: False)  # a task queue's worker sends
    queue = SimpleNamespace(enqueue=enqueued.append)
    monkeypatch.setattr(tasks, "send_iso_message", queue)
    supplier, req = _setup(library_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_to_supplier(req, supplier)
    msg = IsoMessage.objects.get(request=req, direction="out", kind="request")
    assert enqueued == [msg.pk]
    assert msg.send_state == "pending" and msg.attempts == 0 and msg.next_attempt_at is None
    assert transport.attempt(msg.pk) == "sent"  # the worker's task: claims, then sends


def test_prepared_statements_read_what_they_wrote(library_a: Any) -> None:
    """The prepared, server-bound statements of `rawsql` (PostgreSQL; Django's cursor on
    SQLite) bind text with quotes, NUL-free Unicode and None, and read back the same."""
    _supplier, req = _setup(library_a)
    text = "O'Brien \\ 100% “引号” ; DROP TABLE x; --"
    for _ in range(6):  # past any prepare threshold: the same statement prepared and reused
        n, rows = rawsql.execute("SELECT %s, %s, %s", [text, None, 7])
        assert rows == [(text, None, 7)] and n in (1, -1)
    req.title = text
    assert rawsql.update(req, ["title"]) == 1
    req.refresh_from_db()
    assert req.title == text
