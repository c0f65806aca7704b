"""Our side's ISO 18626 moves: asking a supplier (and the next one in the rota), our staff's
actions as requester and statuses as supplier; each is kept and sent by `transport`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.delivery.choices import IsoAction, IsoStatus, Role, ServiceType, Status
from lifeline.delivery.logic import iso_codes, peers, rawsql, transport
from lifeline.delivery.logic.builders import build_request, build_requesting, build_supplying
from lifeline.delivery.logic.ill_states import (
    ACTIONS,
    FINAL_ACTIONS,
    LOAN_ONLY,
    NEXT,
    RENEW_DAYS,
    S,
    note,
)
from lifeline.delivery.models import DeliveryRequest, IllTransaction, Peer, Supplier


def next_supplier(req: DeliveryRequest) -> Supplier | None:
    """The first active ISO 18626 supplier of the rota (peers and partner libraries) not yet
    asked for this request and offering its service (copy or loan)."""
    from django.db.models import Q

    asked = set(req.transactions.values_list("peer_id", flat=True))
    loan = req.doc_type in iso_codes.LOAN_TYPES
    candidates = (
        Supplier.objects.filter(library=req.library, is_active=True)
        .filter(Q(peer__isnull=False, peer__is_active=True) | Q(partner__isnull=False))
        .select_related("peer", "partner", "library")
        .order_by("rota", "name")
    )
    for supplier in candidates:
        peer = peer_of(supplier)
        if peer is None or peer.pk in asked or not (peer.loan if loan else peer.copy):
            continue
        return supplier
    return None


def peer_of(supplier: Supplier) -> Peer | None:
    if supplier.peer is not None:
        return supplier.peer
    if supplier.partner is not None:
        peer = peers.partner_peer(supplier.library, supplier.partner)
        Supplier.objects.filter(pk=supplier.pk).update(peer=peer)
        supplier.peer = peer
        return peer
    return None


def send_request(
    req: DeliveryRequest, supplier: Supplier, *, now: dt.datetime | None = None, by: Any = None
) -> IllTransaction:
    """Ask `supplier` (an ISO 18626 peer) for `req`: a new transaction and its Request."""
    now = now or timezone.now()
    peer = peer_of(supplier)
    assert peer is not None
    if req.status != Status.REQUESTED:
        req.move(Status.REQUESTED, by=by, now=now, supplier=supplier, note=str(supplier))
    elif req.supplier_id != supplier.pk:
        req.supplier = supplier
        req.save(update_fields=["supplier"])
        note(req, str(supplier), by=str(by or "system"), now=now)
    # Prepared statements (`rawsql`): this runs once per request sent, from a page or a batch.
    _c, counted = rawsql.execute(
        f"SELECT COUNT(*) FROM {rawsql.qn(IllTransaction._meta.db_table)}"  # noqa: S608
        " WHERE request_id = %s",
        [req.pk],
    )
    n = counted[0][0] + 1
    service = ServiceType.LOAN if req.doc_type in iso_codes.LOAN_TYPES else ServiceType.COPY
    txn = IllTransaction(
        library=req.library,
        request=req,
        peer=peer,
        role=Role.REQUESTER,
        requesting_id=f"{req.reference()}-{n}",
        service_type=service,
        created_at=now,
        updated_at=now,
    )
    rawsql.insert(txn)
    transport.queue(peer, txn, req, "request", "New", build_request(txn, now), now=now, first=True)
    return txn


def _send_status(
    txn: IllTransaction,
    status: str,
    now: dt.datetime,
    *,
    reason: str = "StatusChange",
    **extra: Any,
) -> None:
    xml = build_supplying(txn, status, now, reason_for_message=reason, **extra)
    transport.queue(txn.peer, txn, txn.request, "supplyingAgencyMessage", status, xml, now=now)


def _send_action(txn: IllTransaction, action: str, now: dt.datetime, text: str = "") -> None:
    xml = build_requesting(txn, action, now, text)
    transport.queue(txn.peer, txn, txn.request, "requestingAgencyMessage", action, xml, now=now)


def open_transaction(req: DeliveryRequest, role: str) -> IllTransaction | None:
    return (
        req.transactions.select_related("peer", "library")
        .filter(role=role)
        .order_by("-created_at", "-id")
        .first()
    )


def requester_action(
    txn: IllTransaction, action: str, *, note_text: str = "", now: dt.datetime | None = None
) -> None:
    """Our staff (or the patron's cancel) act on a transaction with a supplier."""
    from django.core.exceptions import ValidationError

    now = now or timezone.now()
    if txn.role != Role.REQUESTER or action not in ACTIONS.get(txn.iso_status, FINAL_ACTIONS):
        raise ValidationError(
            _("This ISO 18626 action does not fit the status of the transaction.")
        )
    if action == IsoAction.CANCEL:
        txn.cancel_asked = True
        txn.save(update_fields=["cancel_asked"])
    _send_action(txn, action, now, note_text)


def supplier_status(
    txn: IllTransaction,
    status: str,
    *,
    now: dt.datetime | None = None,
    note_text: str = "",
    reason: str = "",
    retry_after: dt.datetime | None = None,
    url: str = "",
    by: Any = None,
) -> None:
    """Our staff move a peer's request on (supplier side); the peer hears of it."""
    from django.core.exceptions import ValidationError

    now = now or timezone.now()
    if (
        txn.role != Role.SUPPLIER
        or status not in IsoStatus.values
        or (status != txn.iso_status and status not in NEXT.get(txn.iso_status, frozenset()))
    ):
        raise ValidationError(_("This ISO 18626 status cannot follow the current one."))
    if (status in LOAN_ONLY and txn.service_type == ServiceType.COPY) or (
        status == S.COPY_COMPLETED and txn.service_type == ServiceType.LOAN
    ):
        raise ValidationError(_("This status does not fit the service (copy or loan)."))
    extra: dict[str, Any] = {"note": note_text}
    if status == S.UNFILLED:
        extra["reason_unfilled"] = iso_codes.reason_unfilled_code(reason)
    if status == S.RETRY_POSSIBLE:
        extra["reason_retry"] = (
            reason if reason in iso_codes.REASON_RETRY else "NotCurrentAvailableForILL"
        )
        extra["retry_after"] = retry_after
    if status == S.LOANED:
        txn.loan_due = txn.loan_due or now + dt.timedelta(days=RENEW_DAYS)
        extra["due"] = txn.loan_due
        extra["sent_via"] = "Mail"
    if status == S.COPY_COMPLETED:
        extra["sent_url"] = url
        extra["sent_via"] = "URL" if url else "Mail"
    txn.iso_status, txn.updated_at = status, now
    txn.save()
    req = txn.request
    if status in (S.LOANED, S.COPY_COMPLETED) and req.is_open and req.status != Status.DELIVERED:
        if not url:  # a file delivery moved the request already
            req.move(Status.DELIVERED, by=by, now=now, note=str(IsoStatus(status).label))
    elif status == S.UNFILLED and req.is_open:
        req.move(Status.UNFILLED, by=by, now=now, note=note_text, unfilled_reason=reason or "other")
    elif status in (S.WILL_SUPPLY, S.EXPECT_TO_SUPPLY) and req.status == Status.SUBMITTED:
        req.move(Status.IN_PROCESS, by=by, now=now, note=str(IsoStatus(status).label))
    elif status == S.CANCELLED and req.is_open:
        req.move(Status.CANCELLED, by=by, now=now, note=note_text)
    elif status not in (S.LOANED, S.COPY_COMPLETED):
        note(req, f"{IsoStatus(status).label} {note_text}".strip(), by=str(by or "system"), now=now)
    _send_status(txn, status, now, **extra)
