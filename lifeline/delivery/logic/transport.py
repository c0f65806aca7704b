"""Sending ISO 18626 messages: kept first, then sent by a task, tried again with back-off.

Every outgoing message is an `IsoMessage` row (direction out, state pending) written in the
same transaction as the change it reports, with a random idempotency key. The task posts it
(HTTP, through `lifeline.core.outbound.fetch`, with the key in an `Idempotency-Key` header);
a peer that is down leaves it pending with the next try set (30 s, doubling, at most an hour,
given up after `MAX_ATTEMPTS`), and the periodic `retry_due` sends what is due, oldest first,
one transaction's messages in order. The receiver keeps the key: a retried message whose first
copy did arrive is answered again and applied once (`logic/ill.py`).

A library of this installation is reached in-process (no HTTP): the message goes through the
same `ill.receive` in the same database transaction, so the two sides cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lifeline.core import outbound
from lifeline.delivery.choices import Direction, Health, MessageOutcome, SendState
from lifeline.delivery.logic import rawsql
from lifeline.delivery.logic.iso18626 import Iso18626Error, confirmation_outcome, validate
from lifeline.delivery.models import DeliveryRequest, IllTransaction, IsoMessage, Peer

MAX_ATTEMPTS = 20
TIMEOUT = 20.0


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def queue(
    peer: Peer,
    txn: IllTransaction | None,
    req: DeliveryRequest | None,
    kind: str,
    status: str,
    xml: bytes,
    *,
    now: dt.datetime | None = None,
    not_before: dt.datetime | None = None,
    first: bool = False,
) -> IsoMessage:
    """Keep the message and have it sent (after commit; in-process peers at once).
    `first`: the first message of a transaction made in this database transaction (no earlier
    one can hold it back), so with immediate tasks it is written already claimed and sent
    after commit without a claim of its own (a process that dies before sending leaves it to
    `retry_due` after the back-off, as a claimed message always was)."""
    now = now or timezone.now()
    validate(xml)  # never send what the peer would have to refuse
    inline = (
        first
        and txn is not None
        and not peer.in_process
        and (not_before is None or not_before <= now)
        and _immediate()
    )
    msg = IsoMessage(
        library_id=peer.library_id,
        request=req,
        peer=peer,
        transaction=txn,
        direction=Direction.OUT,
        kind=kind,
        status=status[:40],
        xml=xml.decode("utf-8"),
        idempotency_key=uuid.uuid4().hex,
        send_state=SendState.PENDING,
        attempts=1 if inline else 0,
        next_attempt_at=now + backoff(1) if inline else not_before,
        created_at=now,
    )
    rawsql.insert(msg)
    if not_before is not None and not_before > now:
        return msg  # `retry_due` sends it when the time comes
    msg.peer = peer
    if peer.in_process:
        attempt(msg.pk, now=now, loaded=msg)
    elif inline:
        transaction.on_commit(lambda: _send(msg, now))
    else:
        transaction.on_commit(lambda: _send_after_commit(msg))
    return msg


def _immediate() -> bool:
    from django.tasks.backends.immediate import ImmediateBackend

    from lifeline.delivery.tasks import send_iso_message

    return isinstance(send_iso_message.get_backend(), ImmediateBackend)


def _send_after_commit(msg: IsoMessage) -> None:
    """The send task; with immediate tasks (one process sends its own messages) the message
    just written is handed over as it is rather than read back."""
    from lifeline.delivery.tasks import send_iso_message

    if _immediate():
        attempt(msg.pk, loaded=msg)
    else:
        send_iso_message.enqueue(msg.pk)


def attempt(pk: int, *, now: dt.datetime | None = None, loaded: IsoMessage | None = None) -> str:
    """One try at sending message `pk`; returns its state afterwards. `loaded`: the row as
    this process has just written it (its claim below still checks it in the database)."""
    now = now or timezone.now()
    msg = (
        loaded
        if loaded is not None and loaded.pk == pk
        else IsoMessage.objects.select_related("peer", "peer__partner", "peer__library")
        .filter(pk=pk)
        .first()
    )
    if msg is None or msg.send_state != SendState.PENDING or msg.peer is None:
        return msg.send_state if msg else ""
    if msg.next_attempt_at is not None and msg.next_attempt_at > now:
        return SendState.PENDING
    # Claim: one sender per message even with many workers, and none while an earlier message
    # of its transaction waits (order); one prepared statement for both.
    table = rawsql.qn(IsoMessage._meta.db_table)
    claimed, _rows = rawsql.execute(
        f"UPDATE {table} SET attempts = %s, next_attempt_at = %s"  # noqa: S608 - model names
        " WHERE id = %s AND send_state = %s AND attempts = %s"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= %s)"
        f" AND NOT EXISTS (SELECT 1 FROM {table} e WHERE e.transaction_id = %s"
        " AND e.direction = %s AND e.send_state = %s AND e.id < %s)",
        [
            msg.attempts + 1,
            now + backoff(msg.attempts + 1),
            pk,
            SendState.PENDING,
            msg.attempts,
            now,
            msg.transaction_id,
            Direction.OUT,
            SendState.PENDING,
            pk,
        ],
    )
    if not claimed:
        return SendState.PENDING
    msg.attempts += 1
    return _send(msg, now)


def _send(msg: IsoMessage, now: dt.datetime) -> str:
    """Post a claimed message (its `attempts` counts this try) and record the outcome."""
    pk, peer = msg.pk, msg.peer
    assert peer is not None
    table = rawsql.qn(IsoMessage._meta.db_table)
    try:
        answer = post(peer, msg.xml.encode("utf-8"), msg.idempotency_key)
        ok, error = confirmation_outcome(answer)
    except (outbound.OutboundError, Iso18626Error) as exc:
        state = SendState.FAILED if msg.attempts >= MAX_ATTEMPTS else SendState.PENDING
        IsoMessage.objects.filter(pk=pk).update(send_state=state, error=str(exc)[:2000])
        _health(peer, Health.DOWN, str(exc), now)
        return state
    state = SendState.SENT if ok else SendState.REFUSED
    mark = (
        f"UPDATE {table} SET send_state = %s, answer = %s, outcome = %s, error = %s,"  # noqa: S608
        " next_attempt_at = NULL WHERE id = %s"
    )
    values = [
        state,
        answer.decode("utf-8", "replace"),
        MessageOutcome.OK if ok else MessageOutcome.ERROR,
        error[:2000],
        pk,
    ]
    rawsql.execute(mark, values)
    # The look for a held message is its own statement, after the mark has committed: a held
    # message was written (committed) before its own claim failed on this one still pending,
    # so a look that starts after the mark commits always finds it (one in the same statement
    # as the mark would read a snapshot from before that commit and could miss it).
    look = state == SendState.SENT and msg.transaction_id is not None
    rows = rawsql.execute(_held_sql(), _held_params(msg))[1] if look else []
    _health(peer, Health.UP, "", now)
    if rows:
        # A message of the same transaction queued while this one was on its way (the peer
        # had already answered it and replied) was held back by the order check: sent now,
        # not a minute later with the periodic job.
        attempt(rows[0][0], now=now)
    return state


@cache
def _held_sql() -> str:
    """The next held message of a transaction: only never-tried ones, so a back-off is not cut
    short."""
    return (
        f"SELECT id FROM {rawsql.qn(IsoMessage._meta.db_table)}"  # noqa: S608 - model names
        " WHERE transaction_id = %s AND direction = %s AND send_state = %s AND attempts = 0"
        " AND next_attempt_at IS NULL AND id > %s ORDER BY id LIMIT 1"
    )


def _held_params(msg: IsoMessage) -> list[object]:
    return [msg.transaction_id, Direction.OUT, SendState.PENDING, msg.pk]


def _health(peer: Peer, health: str, error: str, now: dt.datetime) -> None:
    if peer.health != health or (error and error != peer.last_error):
        Peer.objects.filter(pk=peer.pk).update(
            health=health, health_changed_at=now, last_error=error[:2000]
        )
        peer.health, peer.last_error = health, error


def post(peer: Peer, xml: bytes, key: str) -> bytes:
    """Deliver one message to the peer and return its confirmation (bytes)."""
    if peer.in_process:
        from lifeline.delivery.logic import ill, peers

        assert peer.partner is not None
        back = peers.partner_peer(peer.partner, peer.library)
        return ill.receive(xml, peer=back, idempotency_key=key)
    headers = {
        "Content-Type": "application/xml; charset=utf-8",
        "Idempotency-Key": key,
    }
    if peer.secret_out:
        headers[peer.secret_header] = peer.secret_out
    result = outbound.fetch(
        peer.endpoint_url,
        method="POST",
        headers=headers,
        content=xml,
        allow_internal=peer.allow_internal,
        max_bytes=1_000_000,
        timeout=TIMEOUT,
        follow_redirects=False,
        # No redirects are followed, so a plain-HTTP endpoint never reaches TLS: skip building
        # a certificate store per message (the fetcher makes a fresh one for each call).
        verify=peer.endpoint_url.lower().startswith("https:"),
        cert=(peer.client_cert, peer.client_key) if peer.client_cert else None,
        keep_alive=True,  # many small messages to the same few peers
    )
    if result.status != 200:
        raise outbound.OutboundFailed(f"HTTP {result.status} from {peer.endpoint_url}")
    return result.content


def retry_due(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send what is due (periodic job); oldest first, so one transaction's order holds."""
    now = now or timezone.now()
    due = list(
        IsoMessage.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            direction=Direction.OUT,
            send_state=SendState.PENDING,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        if attempt(pk, now=now) == SendState.SENT:
            sent += 1
    return sent
