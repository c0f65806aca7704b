"""Building the three ISO 18626 messages Lifeline sends, from its own records."""

from __future__ import annotations

import datetime as dt

from lifeline.delivery.logic import iso_codes
from lifeline.delivery.logic.iso18626 import el, envelope, header, to_bytes, ts
from lifeline.delivery.logic.peers import local_agency
from lifeline.delivery.models import IllTransaction


def _agencies(txn: IllTransaction) -> tuple[tuple[str, str], tuple[str, str]]:
    """(supplying, requesting) agency ids of the transaction."""
    ours = local_agency(txn.library_id)  # by id: the library row itself is not needed
    theirs = (txn.peer.agency_id_type, txn.peer.agency_id_value)
    return (theirs, ours) if txn.role == "requester" else (ours, theirs)


def build_request(txn: IllTransaction, now: dt.datetime, request_type: str = "New") -> bytes:
    req = txn.request
    supplying, requesting = _agencies(txn)
    root, body = envelope("request")
    header(
        body, supplying=supplying, requesting=requesting, requesting_id=txn.requesting_id, now=now
    )
    bib = el(body, "bibliographicInfo")
    article = bool(req.source and (req.volume or req.issue or req.pages or req.issn))
    el(bib, "title", (req.source if article else req.title) or req.title)
    if req.authors and not article:
        el(bib, "author", req.authors)
    if article:
        el(bib, "titleOfComponent", req.title)
        if req.authors:
            el(bib, "authorOfComponent", req.authors)
    for tag, value in (("volume", req.volume), ("issue", req.issue), ("pagesRequested", req.pages)):
        if value:
            el(bib, tag, value)
    for field, code in iso_codes.ITEM_ID_OUT:
        value = getattr(req, field)
        if value:
            item = el(bib, "bibliographicItemId")
            el(item, "bibliographicItemIdentifier", value)
            el(item, "bibliographicItemIdentifierCode", code)
    if req.year:
        pub = el(body, "publicationInfo")
        el(pub, "publicationDate", str(req.year))
    service = el(body, "serviceInfo")
    el(service, "requestType", request_type)
    el(service, "requestSubType", "PatronRequest")
    el(service, "serviceType", txn.service_type)
    if req.due_at:
        el(service, "needBeforeDate", ts(req.due_at))
    agency = el(body, "requestingAgencyInfo")
    el(agency, "name", req.library.name)
    return to_bytes(root)


def build_supplying(
    txn: IllTransaction,
    status: str,
    now: dt.datetime,
    *,
    reason_for_message: str = "StatusChange",
    answer: str = "",
    note: str = "",
    reason_unfilled: str = "",
    reason_retry: str = "",
    retry_after: dt.datetime | None = None,
    due: dt.datetime | None = None,
    sent_url: str = "",
    sent_via: str = "",
) -> bytes:
    supplying, requesting = _agencies(txn)
    root, body = envelope("supplyingAgencyMessage")
    header(
        body,
        supplying=supplying,
        requesting=requesting,
        requesting_id=txn.requesting_id,
        now=now,
        supplying_id=txn.supplying_id,
    )
    info = el(body, "messageInfo")
    el(info, "reasonForMessage", reason_for_message)
    if answer:
        el(info, "answerYesNo", answer)
    if note:
        el(info, "note", note[:2000])
    if reason_unfilled:
        el(info, "reasonUnfilled", reason_unfilled)
    if reason_retry:
        el(info, "reasonRetry", reason_retry)
    if retry_after is not None:
        el(info, "retryAfter", ts(retry_after))
    status_info = el(body, "statusInfo")
    el(status_info, "status", status)
    if due is not None:
        el(status_info, "dueDate", ts(due))
    el(status_info, "lastChange", ts(now))
    if sent_url or sent_via:
        delivery = el(body, "deliveryInfo")
        el(delivery, "dateSent", ts(now))
        if sent_url:
            el(delivery, "itemId", sent_url)
        el(delivery, "sentVia", sent_via or "URL")
        el(delivery, "sentToPatron", "false")
    return to_bytes(root)


def build_requesting(txn: IllTransaction, action: str, now: dt.datetime, note: str = "") -> bytes:
    supplying, requesting = _agencies(txn)
    root, body = envelope("requestingAgencyMessage")
    header(
        body,
        supplying=supplying,
        requesting=requesting,
        requesting_id=txn.requesting_id,
        now=now,
        supplying_id=txn.supplying_id,
    )
    el(body, "action", action)
    if note:
        el(body, "note", note[:2000])
    return to_bytes(root)
