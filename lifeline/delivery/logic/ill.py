"""The ISO 18626 exchange in both roles: receiving a message (who sent it, once only, whether it
makes sense now) and the moves it makes, and the messages our staff's actions send.

Requester side: our patron's request has one `IllTransaction` per supplier asked, keyed by the
requestingAgencyRequestId we gave it. Supplier side: a peer's request becomes a request of
ours, keyed by the peer and *its* requestingAgencyRequestId, whatever its shape.

A message that makes no sense in the transaction's state (a loan status on a copy, WillSupply
after CopyCompleted, a Renew of a copy) is answered with the standard error confirmation and
changes nothing; so is a message older than the last one applied (reordered). A second copy of
a message (same idempotency key, else same bytes) is answered as the first was and applied
once; a second copy of a refused message (nothing was applied) is judged again. Error texts
are English (machines read them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.delivery.choices import (
    Direction,
    IsoAction,
    IsoStatus,
    MessageOutcome,
    Role,
    ServiceType,
    Status,
    UnfilledReason,
)
from lifeline.delivery.logic import iso_codes, peers, rawsql, transport
from lifeline.delivery.logic.builders import (
    build_request,
)
from lifeline.delivery.logic.ill_send import (  # noqa: F401 - the module's public moves
    _send_action,
    _send_status,
    next_supplier,
    open_transaction,
    peer_of,
    requester_action,
    send_request,
    supplier_status,
)
from lifeline.delivery.logic.ill_states import (  # noqa: F401 - read by pages
    ACTIONS,
    FINAL_ACTIONS,
    LOAN_ONLY,
    NEXT,
    ON_LOAN,
    OPEN,
    RENEW_DAYS,
    S,
    _who,
    note,
)
from lifeline.delivery.logic.iso18626 import (
    Iso18626Error,
    Message,
    build_confirmation,
    english,
    parse_time,
    read,
    read_leniently,
)
from lifeline.delivery.models import (
    DeliveryRequest,
    IllTransaction,
    IsoMessage,
    Peer,
    RequestEvent,
)

# --- receiving -------------------------------------------------------------------------------


def receive(
    xml: bytes,
    *,
    now: dt.datetime | None = None,
    peer: Peer | None = None,
    sender: Any = None,
    idempotency_key: str = "",
    known: tuple[tuple[str, str], Library] | None = None,
    checked: Message | None = None,
) -> bytes:
    """Take one message; return the confirmation to send back (always valid XML).

    `peer` is the sender as the endpoint authenticated it (or the in-process partner); without
    one (a same-installation account's token, or a direct call) the header names it. `known` is
    the (agency id, library) the endpoint already looked up for this message: used only when the
    checked message names the same agency, saving the lookup a second time. `checked`: `xml`
    as `read` gave it (parsed and validated), when the caller has read it already."""
    now = now or timezone.now()
    try:
        msg = checked if checked is not None else read(xml)
        if msg.kind not in ("request", "supplyingAgencyMessage", "requestingAgencyMessage"):
            raise Iso18626Error(
                english("A confirmation needs no answer."), "UnsupportedReasonForMessageType"
            )
        library, peer = _parties(msg, peer, sender, known)
    except Iso18626Error as exc:
        msg = read_leniently(xml)
        _refused(xml, msg, str(exc), now, peer)
        return build_confirmation(msg, now, error_type=exc.error_type, error_value=str(exc))
    key = (idempotency_key or hashlib.sha256(xml).hexdigest())[:100]
    status = (
        msg.text("statusInfo/status")
        or msg.text("action")
        or msg.text("serviceInfo/requestType")
        or "New"
    )[:40]
    # Applied first, kept last, in one transaction: the unique key of the kept row is the
    # guard. A second copy of an applied message (at once on another connection, which waits
    # on the transaction's row lock, or later) fails that insert, so everything it did is
    # rolled back and it gets the first copy's answer; the common first copy pays no look-up.
    # A refusal rolls back the whole transaction (no savepoint on the common path) and is
    # kept afterwards on its own.
    record = IsoMessage(
        library=library,
        peer=peer,
        direction=Direction.IN,
        kind=msg.kind,
        status=status,
        xml=xml.decode("utf-8", "replace"),
        idempotency_key=key,
        created_at=now,
    )
    try:
        # The history rows and the transaction's UPDATE go with the kept message's INSERT as
        # one statement on PostgreSQL (`rawsql.combined`).
        with transaction.atomic(), rawsql.combined():
            txn, reason = HANDLERS[msg.kind](msg, peer, now)
            answer = build_confirmation(msg, now, reason_for_message=reason)
            record.transaction, record.request_id = txn, txn.request_id
            record.answer = answer.decode("utf-8")
            rawsql.insert(record)
    except Iso18626Error as exc:
        # A second copy of a message that was applied may no longer fit the state it moved
        # on: it gets the first answer, not this refusal.
        again = _seen(peer, key)
        if again is not None:
            return again
        answer = build_confirmation(msg, now, error_type=exc.error_type, error_value=str(exc))
        record.outcome, record.error = MessageOutcome.ERROR, str(exc)[:2000]
        # Refused, nothing applied: a second copy is judged again, not answered with this
        # error. The refusal may have been passing (the supplier's document server was down
        # while it restarted); replaying it would strand the transaction.
        record.idempotency_key = ""
        record.answer = answer.decode("utf-8")
        rawsql.insert(record)
    except IntegrityError:
        # The same message applied before (or at the same moment on another connection):
        # its answer is ours, and what this copy did was rolled back.
        again = _seen(peer, key)
        if again is None:
            raise
        return again
    return answer


def _seen(peer: Peer, key: str) -> bytes | None:
    first = (
        IsoMessage.objects.filter(peer=peer, direction=Direction.IN, idempotency_key=key)
        .exclude(answer="")
        .values_list("answer", flat=True)
        .first()
    )
    return first.encode("utf-8") if first else None


def _parties(
    msg: Message,
    peer: Peer | None,
    sender: Any,
    known: tuple[tuple[str, str], Library] | None = None,
) -> tuple[Library, Peer]:
    """Our library the message is for, and the peer that sent it (checked against the header)."""
    ours, theirs = (
        (msg.requesting, msg.supplying)
        if msg.kind == "supplyingAgencyMessage"
        else (msg.supplying, msg.requesting)
    )
    library = known[1] if known is not None and known[0] == ours else peers.library_for(ours)
    if library is None:
        raise Iso18626Error(
            english("Unknown agency “%(type)s:%(value)s”.", type=ours[0], value=ours[1]),
            "UnrecognisedDataValue",
        )
    if peer is None:
        found = peers.find_peer(library, theirs)
        # A same-installation account's token speaks for its own library only.
        if sender is not None and (
            found.partner is None or not user_can(sender, found.partner, "delivery.change")
        ):
            raise Iso18626Error(
                english("This account may not send messages for agency “%(v)s”.", v=theirs[1]),
                "UnrecognisedDataValue",
            )
        return library, found
    if peer.library_id != library.pk:
        raise Iso18626Error(
            english("The message is not addressed to the library this peer belongs to."),
            "UnrecognisedDataValue",
        )
    if peer.agency_id_value != theirs[1]:
        raise Iso18626Error(
            english("This peer may not send messages for agency “%(v)s”.", v=theirs[1]),
            "UnrecognisedDataValue",
        )
    if peer.agency_id_type != theirs[0]:
        raise Iso18626Error(
            english(
                "Agency id type “%(got)s” does not match “%(want)s” on record for %(value)s.",
                got=theirs[0],
                want=peer.agency_id_type,
                value=theirs[1],
            ),
            "UnrecognisedDataValue",
        )
    return library, peer


def _refused(xml: bytes, msg: Message, error: str, now: dt.datetime, peer: Peer | None) -> None:
    ours = msg.requesting if msg.kind == "supplyingAgencyMessage" else msg.supplying
    library = peer.library if peer is not None else peers.library_for(ours)
    IsoMessage.objects.create(
        library=library,
        peer=peer,
        direction=Direction.IN,
        kind=msg.kind[:60],
        status="",
        xml=xml[:200_000].decode("utf-8", "replace"),
        outcome=MessageOutcome.ERROR,
        error=error[:2000],
        created_at=now,
    )


def _txn(peer: Peer, role: str, requesting_id: str) -> IllTransaction:
    """The transaction under a row lock, with its request and the request's library (one
    prepared query); its peer is the one we already hold (reading it again would decrypt its
    secrets again)."""
    qn = rawsql.qn
    lock = " FOR UPDATE OF t" if connection.features.has_select_for_update_of else ""
    rows = rawsql.select(
        f"SELECT {rawsql.columns(IllTransaction, 't')}, {rawsql.columns(DeliveryRequest, 'r')},"  # noqa: S608
        f" {rawsql.columns(Library, 'l')} FROM {qn(IllTransaction._meta.db_table)} t"
        f" JOIN {qn(DeliveryRequest._meta.db_table)} r ON r.id = t.request_id"
        f" JOIN {qn(Library._meta.db_table)} l ON l.id = r.library_id"
        " WHERE t.peer_id = %s AND t.role = %s AND t.requesting_id = %s" + lock,
        [peer.pk, role, requesting_id],
        (IllTransaction, DeliveryRequest, Library),
    )
    if not rows:
        raise Iso18626Error(
            english("Unknown request id “%(id)s”.", id=requesting_id[:200]), "UnrecognisedDataValue"
        )
    txn, req, library = rows[0]
    req.library = library
    txn.request, txn.peer = req, peer
    return txn


def _in_order(txn: IllTransaction, msg: Message) -> None:
    if msg.timestamp and txn.peer_timestamp and msg.timestamp < txn.peer_timestamp:
        raise Iso18626Error(
            english("The message is older than the last one applied (sent out of order)."),
            "UnrecognisedDataValue",
        )
    if msg.timestamp:
        txn.peer_timestamp = msg.timestamp


# --- supplier side: a peer's request and its actions -----------------------------------------


def _fields(msg: Message) -> dict[str, Any]:
    """The request's bibliographic fields; an identifier that does not check is kept in the note."""
    from lifeline.delivery.services import item_key, normalise_fields

    ids: dict[str, str] = {}
    odd: list[str] = []
    for item in msg.all("bibliographicInfo/bibliographicItemId"):
        code = (item.findtext(f"{{{_NS}}}bibliographicItemIdentifierCode") or "").strip().upper()
        value = (item.findtext(f"{{{_NS}}}bibliographicItemIdentifier") or "").strip()
        field = iso_codes.ITEM_ID_FIELDS.get(code)
        if field and value and field not in ids:
            ids[field] = value
        elif value:
            odd.append(f"{code}: {value}")
    component = msg.text("bibliographicInfo/titleOfComponent")
    title = msg.text("bibliographicInfo/title")
    data: dict[str, Any] = {
        "title": (component or title or "?")[:1000],
        "source": (title if component else "")[:500],
        "authors": (
            msg.text("bibliographicInfo/authorOfComponent") or msg.text("bibliographicInfo/author")
        )[:500],
        "volume": msg.text("bibliographicInfo/volume")[:40],
        "issue": msg.text("bibliographicInfo/issue")[:40],
        "pages": msg.text("bibliographicInfo/pagesRequested")[:40],
    }
    year = msg.text("publicationInfo/publicationDate")[:4]
    if year.isdigit() and 1400 <= int(year) <= 2100:
        data["year"] = int(year)
    for field, value in ids.items():
        try:
            data[field] = normalise_fields({"title": "x", field: value})[field]
        except Exception:
            odd.append(f"{field.upper()}: {value}")
    fields = {k: v for k, v in data.items() if v not in ("", None)}
    fields["item_key"] = item_key(fields)
    fields["note"] = "; ".join([*odd, msg.text("serviceInfo/note")]).strip("; ")[:2000]
    return fields


_NS = "http://illtransactions.org/2013/iso18626"


def _on_request(msg: Message, peer: Peer, now: dt.datetime) -> tuple[IllTransaction, str]:
    from lifeline.delivery.logic.hours import due_at

    request_type = msg.text("serviceInfo/requestType") or "New"
    service = msg.text("serviceInfo/serviceType") or ServiceType.COPY
    existing = (
        IllTransaction.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(peer=peer, role=Role.SUPPLIER, requesting_id=msg.requesting_id)
        .first()
    )
    if not msg.requesting_id:
        raise Iso18626Error(
            english("The request has no requestingAgencyRequestId."), "UnrecognisedDataValue"
        )
    if existing is not None:
        if request_type == "Reminder":
            note(existing.request, english("Reminder from the requester."), by=_who(peer), now=now)
            return existing, ""
        if request_type == "Retry" and existing.iso_status == S.RETRY_POSSIBLE:
            _in_order(existing, msg)
            for key, value in _fields(msg).items():
                setattr(existing.request, key, value)
            existing.request.save()
            existing.iso_status, existing.service_type = "", service
            existing.updated_at = now
            existing.save()
            note(
                existing.request,
                english("The requester asks again (Retry)."),
                by=_who(peer),
                now=now,
            )
            return existing, ""
        raise Iso18626Error(
            english("Request id “%(id)s” is already in use.", id=msg.requesting_id[:200]),
            "UnrecognisedDataValue",
        )
    if request_type == "Reminder":
        raise Iso18626Error(
            english("Unknown request id “%(id)s”.", id=msg.requesting_id[:200]),
            "UnrecognisedDataValue",
        )
    req = DeliveryRequest.objects.create(
        library=peer.library,
        channel=f"ISO 18626: {peer.agency_id_value}"[:100],
        patron_name=peer.name[:120],
        created_at=now,
        due_at=due_at(now),
        external_id=f"iso18626:{peer.pk}:{hashlib.sha256(msg.requesting_id.encode()).hexdigest()[:40]}",
        **_fields(msg),
    )
    if peer.partner_id:
        # A library of this installation: link its request, as the first version did.
        req.origin = _partner_origin(peer, msg.requesting_id)
        if req.origin is not None:
            req.doc_type, req.year = req.origin.doc_type, req.origin.year
            req.save(update_fields=["origin", "doc_type", "year"])
    RequestEvent.objects.create(
        request=req,
        at=now,
        actor_name=_who(peer),
        to_status=Status.SUBMITTED,
        note=msg.requesting_id[:2000],
    )
    txn = IllTransaction.objects.create(
        library=peer.library,
        request=req,
        peer=peer,
        role=Role.SUPPLIER,
        requesting_id=msg.requesting_id,
        supplying_id=req.reference(),
        service_type=service,
        peer_timestamp=msg.timestamp,
        created_at=now,
        updated_at=now,
    )
    return txn, ""


def _partner_origin(peer: Peer, requesting_id: str) -> DeliveryRequest | None:
    found = (
        IllTransaction.objects.filter(
            library=peer.partner_id, role=Role.REQUESTER, requesting_id=requesting_id
        )
        .select_related("request")
        .first()
    )
    return found.request if found is not None else None


def _on_requesting(msg: Message, peer: Peer, now: dt.datetime) -> tuple[IllTransaction, str]:
    txn = _txn(peer, Role.SUPPLIER, msg.requesting_id)
    action = msg.text("action")
    allowed = ACTIONS.get(txn.iso_status, FINAL_ACTIONS)
    if action not in allowed:
        raise Iso18626Error(
            english(
                "Action “%(a)s” does not fit status “%(s)s”.", a=action, s=txn.iso_status or "-"
            ),
            "UnsupportedActionType",
        )
    _in_order(txn, msg)
    req, who, text = txn.request, _who(peer), msg.text("note")
    if action == IsoAction.STATUS_REQUEST:
        _send_status(txn, txn.iso_status or S.REQUEST_RECEIVED, now, reason="StatusRequestResponse")
    elif action == IsoAction.CANCEL:
        if txn.iso_status in OPEN:
            if req.is_open:
                req.move(Status.CANCELLED, by=who, now=now, note=text)
            txn.iso_status = S.CANCELLED
            _send_status(txn, S.CANCELLED, now, reason="CancelResponse", answer="Y")
        else:
            note(req, english("The requester asked to cancel; too late."), by=who, now=now)
            _send_status(txn, txn.iso_status, now, reason="CancelResponse", answer="N")
    elif action == IsoAction.RENEW:
        txn.loan_due = max(txn.loan_due or now, now) + dt.timedelta(days=RENEW_DAYS)
        txn.iso_status = S.LOANED
        note(req, english("Loan renewed at the requester's request."), by=who, now=now)
        _send_status(txn, S.LOANED, now, reason="RenewResponse", answer="Y", due=txn.loan_due)
    elif action == IsoAction.SHIPPED_RETURN:
        txn.iso_status = S.LOAN_COMPLETED
        note(req, english("The requester sent the item back; loan completed."), by=who, now=now)
        _send_status(txn, S.LOAN_COMPLETED, now)
    else:  # Received, ShippedForward, Notification: recorded
        note(req, f"{action}: {text}".strip(": "), by=who, now=now)
    txn.updated_at = now
    rawsql.update_later(txn)
    return txn, ""


# --- requester side: the supplier's messages -------------------------------------------------


def _on_supplying(msg: Message, peer: Peer, now: dt.datetime) -> tuple[IllTransaction, str]:
    txn = _txn(peer, Role.REQUESTER, msg.requesting_id)
    reason = msg.text("messageInfo/reasonForMessage")
    status = msg.text("statusInfo/status")
    answer = msg.text("messageInfo/answerYesNo")
    if reason == "CancelResponse" and answer == "Y":
        # ReShare answers "yes" with the status it had (ExpectToSupply): cancelled all the same.
        status = S.CANCELLED
    req, who = txn.request, _who(peer)
    text = msg.text("messageInfo/note")
    if status != txn.iso_status and status not in NEXT.get(txn.iso_status, frozenset()):
        raise Iso18626Error(
            english(
                "Status “%(new)s” cannot follow “%(old)s”.", new=status, old=txn.iso_status or "-"
            ),
            "UnrecognisedDataValue",
        )
    if status in LOAN_ONLY and txn.service_type == ServiceType.COPY:
        raise Iso18626Error(
            english("Status “%(s)s” is for loans; this is a copy.", s=status),
            "UnrecognisedDataValue",
        )
    if status == S.COPY_COMPLETED and txn.service_type == ServiceType.LOAN:
        raise Iso18626Error(english("CopyCompleted on a loan request."), "UnrecognisedDataValue")
    _in_order(txn, msg)
    if msg.supplying_id:
        txn.supplying_id = msg.supplying_id[:200]
    if reason == "CancelResponse":
        txn.cancel_asked = False
        if answer != "Y":
            note(
                req, english("The supplier will not cancel. %(n)s", n=text).strip(), by=who, now=now
            )
    if reason == "RenewResponse":
        if answer == "Y" and msg.text("statusInfo/dueDate"):
            txn.loan_due = parse_time(msg.text("statusInfo/dueDate"))
        note(req, english("Renewal: %(a)s", a=answer or "?"), by=who, now=now)
    changed = status != txn.iso_status
    txn.iso_status, txn.updated_at = status, now
    if changed:
        _apply(txn, msg, status, text, now)
    elif text:
        note(req, text, by=who, now=now)
    rawsql.update_later(txn)
    return txn, reason


def _apply(txn: IllTransaction, msg: Message, status: str, text: str, now: dt.datetime) -> None:
    req, who = txn.request, _who(txn.peer)
    label = IsoStatus(status).label
    if status == S.LOANED:
        txn.loan_due = parse_time(msg.text("statusInfo/dueDate")) or txn.loan_due
        if req.is_open:
            req.move(Status.DELIVERED, by=who, now=now, note=f"{label} {text}".strip())
        else:
            note(req, str(label), by=who, now=now)
    elif status == S.RETRY_POSSIBLE:
        txn.reason = msg.text("messageInfo/reasonRetry")[:100]
        txn.retry_after = parse_time(msg.text("messageInfo/retryAfter"))
        note(req, f"{label}: {txn.reason} {text}".strip(), by=who, now=now)
        _retry_or_next(txn, now)
    elif status == S.UNFILLED:
        txn.reason = msg.text("messageInfo/reasonUnfilled")[:100]
        if req.status == Status.REQUESTED:
            # Back to staff, who may ask another supplier before telling the patron.
            req.move(
                Status.IN_PROCESS,
                by=who,
                now=now,
                # The standard's reason (kept as sent) and Lifeline's reading of it.
                note=f"{txn.peer.name}: {txn.reason} "
                f"({UnfilledReason(iso_codes.unfilled_reason(txn.reason)).label}) {text}".strip(),
            )
    elif status == S.COPY_COMPLETED:
        from lifeline.delivery.logic import urldelivery

        urldelivery.take_delivery(txn, msg, now)
        if txn.request.status == Status.DELIVERED:
            # For a copy, "received" is the end of the transaction on our side.
            _send_action(txn, IsoAction.RECEIVED, now)
    elif status == S.CANCELLED:
        if req.is_open:
            req.move(Status.CANCELLED, by=who, now=now, note=text)
    else:  # RequestReceived, ExpectToSupply, WillSupply, Overdue, Recalled, *Completed
        note(req, f"{label} {text}".strip(), by=who, now=now)


def _retry_or_next(txn: IllTransaction, now: dt.datetime) -> None:
    """RetryPossible: the next supplier of the rota; else ask this one again after retryAfter;
    else staff decide."""
    req = txn.request
    supplier = next_supplier(req)
    if supplier is not None:
        send_request(req, supplier, now=now, by="ISO 18626 rota")
        return
    if txn.retry_after is not None:
        xml = build_request(txn, now, request_type="Retry")
        transport.queue(
            txn.peer, txn, req, "request", "Retry", xml, now=now, not_before=txn.retry_after
        )
        return
    if req.status == Status.REQUESTED:
        req.move(Status.IN_PROCESS, by=_who(txn.peer), now=now, note=txn.reason)


HANDLERS = {
    "request": _on_request,
    "supplyingAgencyMessage": _on_supplying,
    "requestingAgencyMessage": _on_requesting,
}


def refuse(
    xml: bytes,
    error: str,
    error_type: str = "UnrecognisedDataValue",
    now: dt.datetime | None = None,
) -> bytes:
    """The standard error confirmation for a message we cannot even attribute; kept as refused."""
    now = now or timezone.now()
    msg = read_leniently(xml)
    _refused(xml, msg, error, now, None)
    return build_confirmation(msg, now, error_type=error_type, error_value=error)
