"""ISO 18626 (interlibrary loan transactions) between libraries of one installation.

Messages are built with lxml and validated against the official v1.2 schema
(`lifeline/delivery/schemas/ISO-18626-v1_2.xsd`, see SOURCE.md) both when sent and when received.
A received message that does not validate, or names an unknown agency or request, is answered with a
confirmation carrying errorData, recorded as rejected, and changes nothing.

Agencies are identified by library code under the local agency-id type "LIFELINE"; the
requestingAgencyRequestId is the request's reference "<code>-<id>".
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.delivery.choices import Direction, MessageOutcome, Status, UnfilledReason
from lifeline.delivery.models import DeliveryFile, DeliveryRequest, IsoMessage

NS = "http://illtransactions.org/2013/iso18626"
VERSION = "1.2"
AGENCY_TYPE = "LIFELINE"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "ISO-18626-v1_2.xsd"
TOP_LEVEL = (
    "request",
    "requestConfirmation",
    "supplyingAgencyMessage",
    "supplyingAgencyMessageConfirmation",
    "requestingAgencyMessage",
    "requestingAgencyMessageConfirmation",
)
# Our unfilled reasons → the scheme-free values partners read.
REASON_UNFILLED = {r.value: r.value for r in UnfilledReason}


class Iso18626Error(ValueError):
    def __init__(self, message: str, error_type: str = "BadlyFormedMessage") -> None:
        super().__init__(message)
        self.error_type = error_type


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, _q(tag), **attrs)
    if text is not None:
        node.text = text
    return node


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _agency(parent: etree._Element, tag: str, code: str) -> None:
    node = _el(parent, tag)
    _el(node, "agencyIdType", AGENCY_TYPE)
    _el(node, "agencyIdValue", code)


def _message(body: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(_q("ISO18626Message"), nsmap={None: NS})
    root.set(_q("version"), VERSION)
    return root, _el(root, body)


def _header(
    parent: etree._Element,
    supplying: str,
    requesting: str,
    request_id: str,
    now: dt.datetime,
    supplying_request_id: str = "",
) -> None:
    header = _el(parent, "header")
    _agency(header, "supplyingAgencyId", supplying)
    _agency(header, "requestingAgencyId", requesting)
    _el(header, "multipleItemRequestId", "")
    _el(header, "timestamp", _ts(now))
    _el(header, "requestingAgencyRequestId", request_id)
    if supplying_request_id:
        _el(header, "supplyingAgencyRequestId", supplying_request_id)


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def validate(xml: bytes) -> etree._Element:
    """Parse and validate; raise Iso18626Error naming the line of the first problem."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise Iso18626Error(
            _("Not well-formed XML (line %(line)s): %(error)s")
            % {"line": exc.lineno, "error": exc.msg}
        ) from exc
    if not schema().validate(root):
        err = schema().error_log.last_error
        raise Iso18626Error(
            _("The message does not follow the ISO 18626 schema (line %(line)s): %(error)s")
            % {"line": err.line if err else "?", "error": err.message if err else ""}
        )
    return root


# --- building ------------------------------------------------------------------------------


def build_request(req: DeliveryRequest, supplying: Library, now: dt.datetime) -> bytes:
    root, body = _message("request")
    _header(body, supplying.code, req.library.code, req.reference(), now)
    bib = _el(body, "bibliographicInfo")
    article = bool(req.source and (req.volume or req.issue or req.pages or req.issn))
    _el(bib, "title", req.source if article else req.title)
    if req.authors and not article:
        _el(bib, "author", req.authors)
    if article:
        _el(bib, "titleOfComponent", req.title)
        if req.authors:
            _el(bib, "authorOfComponent", req.authors)
    for tag, value in (("volume", req.volume), ("issue", req.issue), ("pagesRequested", req.pages)):
        if value:
            _el(bib, tag, value)
    for code, value in (
        ("DOI", req.doi),
        ("ISSN", req.issn),
        ("ISBN", req.isbn),
        ("PMID", req.pmid),
    ):
        if value:
            item = _el(bib, "bibliographicItemId")
            _el(item, "bibliographicItemIdentifier", value)
            _el(item, "bibliographicItemIdentifierCode", code)
    if req.year:
        pub = _el(body, "publicationInfo")
        _el(pub, "publicationDate", str(req.year))
    service = _el(body, "serviceInfo")
    _el(service, "requestType", "New")
    _el(service, "requestSubType", "PatronRequest")
    _el(service, "serviceType", "Copy")
    if req.due_at:
        _el(service, "needBeforeDate", _ts(req.due_at))
    agency = _el(body, "requestingAgencyInfo")
    _el(agency, "name", req.library.name)
    return to_bytes(root)


def build_supplying_message(
    copy: DeliveryRequest,
    status: str,
    now: dt.datetime,
    *,
    reason_for_message: str = "StatusChange",
    note: str = "",
    reason_unfilled: str = "",
    sent: dt.datetime | None = None,
) -> bytes:
    origin = copy.origin
    assert origin is not None
    root, body = _message("supplyingAgencyMessage")
    _header(
        body,
        copy.library.code,
        origin.library.code,
        origin.reference(),
        now,
        supplying_request_id=copy.reference(),
    )
    info = _el(body, "messageInfo")
    _el(info, "reasonForMessage", reason_for_message)
    if note:
        _el(info, "note", note)
    if reason_unfilled:
        _el(info, "reasonUnfilled", REASON_UNFILLED.get(reason_unfilled, reason_unfilled))
    status_info = _el(body, "statusInfo")
    _el(status_info, "status", status)
    _el(status_info, "lastChange", _ts(now))
    if sent is not None:
        delivery = _el(body, "deliveryInfo")
        _el(delivery, "dateSent", _ts(sent))
        _el(delivery, "sentVia", "URL")
        _el(delivery, "sentToPatron", "false")
    return to_bytes(root)


def build_requesting_message(
    req: DeliveryRequest, supplying: Library, action: str, now: dt.datetime, note: str = ""
) -> bytes:
    root, body = _message("requestingAgencyMessage")
    _header(body, supplying.code, req.library.code, req.reference(), now)
    _el(body, "action", action)
    if note:
        _el(body, "note", note)
    return to_bytes(root)


def build_confirmation(
    kind: str,
    received: etree._Element | None,
    now: dt.datetime,
    *,
    error_type: str = "",
    error_value: str = "",
) -> bytes:
    root, body = _message(f"{kind}Confirmation")
    head = _el(body, "confirmationHeader")
    header = received.find(f"{_q(kind)}/{_q('header')}") if received is not None else None
    if header is not None:
        for tag in ("supplyingAgencyId", "requestingAgencyId"):
            node = header.find(_q(tag))
            if node is not None:
                head.append(_copy(node))
    _el(head, "timestamp", _ts(now))
    if header is not None and header.find(_q("requestingAgencyRequestId")) is not None:
        _el(
            head,
            "requestingAgencyRequestId",
            header.findtext(_q("requestingAgencyRequestId")) or "",
        )
    _el(head, "timestampReceived", _ts(now))
    _el(head, "messageStatus", "ERROR" if error_type else "OK")
    if kind == "requestingAgencyMessage" and received is not None and not error_type:
        action = received.findtext(f"{_q(kind)}/{_q('action')}")
        if action:
            _el(body, "action", action)
    if error_type:
        err = _el(body, "errorData")
        _el(err, "errorType", error_type)
        _el(err, "errorValue", error_value[:500])
    return to_bytes(root)


def _copy(node: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(node))


# --- sending (in-process transport: both libraries live in this installation) -------------------


def _record(
    library: Library | None,
    req: DeliveryRequest | None,
    direction: str,
    kind: str,
    status: str,
    xml: bytes,
    outcome: str = MessageOutcome.OK,
    error: str = "",
    now: dt.datetime | None = None,
) -> IsoMessage:
    return IsoMessage.objects.create(
        library=library,
        request=req,
        direction=direction,
        kind=kind,
        status=status[:40],
        xml=xml.decode("utf-8"),
        outcome=outcome,
        error=error,
        created_at=now or timezone.now(),
    )


def _send(
    sender: Library, req: DeliveryRequest, kind: str, status: str, xml: bytes, now: dt.datetime
) -> etree._Element:
    validate(xml)  # never send what a partner would have to reject
    _record(sender, req, Direction.OUT, kind, status, xml, now=now)
    answer = receive(xml, now=now)
    root = validate(answer)
    confirmation = root[0]
    ok = confirmation.findtext(f"{_q('confirmationHeader')}/{_q('messageStatus')}") == "OK"
    _record(
        sender,
        req,
        Direction.IN,
        confirmation.tag.split("}")[1],
        "OK" if ok else "ERROR",
        answer,
        outcome=MessageOutcome.OK if ok else MessageOutcome.ERROR,
        error="" if ok else confirmation.findtext(f"{_q('errorData')}/{_q('errorValue')}") or "",
        now=now,
    )
    if not ok:
        raise Iso18626Error(
            _("The partner library refused the message: %(error)s")
            % {"error": confirmation.findtext(f"{_q('errorData')}/{_q('errorValue')}") or ""}
        )
    return root


def send_request(req: DeliveryRequest, partner: Library, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    _send(req.library, req, "request", "New", build_request(req, partner, now), now)


def send_supplying_message(
    copy: DeliveryRequest,
    status: str,
    *,
    now: dt.datetime | None = None,
    reason: str = "",
    note: str = "",
    file: DeliveryFile | None = None,
) -> None:
    now = now or timezone.now()
    xml = build_supplying_message(
        copy, status, now, note=note, reason_unfilled=reason, sent=now if file is not None else None
    )
    _send(copy.library, copy, "supplyingAgencyMessage", status, xml, now)


def send_requesting_message(
    req: DeliveryRequest, action: str, *, note: str = "", now: dt.datetime | None = None
) -> None:
    now = now or timezone.now()
    assert req.supplier is not None and req.supplier.partner is not None
    _send(
        req.library,
        req,
        "requestingAgencyMessage",
        action,
        build_requesting_message(req, req.supplier.partner, action, now, note),
        now,
    )


# --- receiving -------------------------------------------------------------------------------


def _lenient_library(xml: bytes, tag: str) -> Library | None:
    """For recording a rejected message: which of our libraries it was addressed to, if readable."""
    try:
        root = etree.fromstring(
            xml, etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
        )
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    code = root.findtext(f".//{_q(tag)}/{_q('agencyIdValue')}")
    return Library.objects.filter(code=code).first() if code else None


def _request_by_reference(reference: str, library: Library) -> DeliveryRequest | None:
    code, _sep, pk = reference.rpartition("-")
    if code != library.code or not pk.isdigit():
        return None
    return DeliveryRequest.objects.filter(library=library, pk=int(pk)).first()


def _record_refused(xml: bytes, kind: str, error: str, now: dt.datetime) -> None:
    """Keep a refused message, filed under the library it was addressed to (when readable).

    A supplying agency's message is addressed to the requester; every other one to the supplier.
    """
    field = "requestingAgencyId" if kind == "supplyingAgencyMessage" else "supplyingAgencyId"
    _record(
        _lenient_library(xml, field),
        None,
        Direction.IN,
        kind,
        "",
        xml,
        outcome=MessageOutcome.ERROR,
        error=error,
        now=now,
    )


# The agency that speaks in each kind of message: the requester asks and cancels, the supplier
# answers.
SENDER_TAG = {
    "request": "requestingAgencyId",
    "requestingAgencyMessage": "requestingAgencyId",
    "supplyingAgencyMessage": "supplyingAgencyId",
}


def _check_sender(body: etree._Element, kind: str, sender: Any) -> None:
    """A message from outside must come from staff of the agency it speaks for: a token of one
    library may not request, cancel or supply in another's name."""
    lib = _library(body.find(_q("header")), SENDER_TAG[kind])
    if not user_can(sender, lib, "delivery.change"):
        raise Iso18626Error(
            _("This account may not send messages for agency “%(code)s”.") % {"code": lib.code},
            "UnrecognisedDataValue",
        )


def receive(xml: bytes, *, now: dt.datetime | None = None, sender: Any = None) -> bytes:
    """Take one message from a partner; return the confirmation to send back (always valid XML).

    `sender` is the account a message over HTTP came with; messages between libraries of this
    installation are passed in-process without one."""
    now = now or timezone.now()
    try:
        root = validate(xml)
    except Iso18626Error as exc:
        kind = _guess_kind(xml)
        _record_refused(xml, kind, str(exc), now)
        return build_confirmation(
            kind, None, now, error_type="BadlyFormedMessage", error_value=str(exc)
        )
    kind = root[0].tag.split("}")[1]
    try:
        with transaction.atomic():
            handler = {
                "request": _on_request,
                "supplyingAgencyMessage": _on_supplying,
                "requestingAgencyMessage": _on_requesting,
            }.get(kind)
            if handler is None:
                raise Iso18626Error(
                    _("A confirmation needs no answer."), "UnsupportedReasonForMessageType"
                )
            if sender is not None:
                _check_sender(root[0], kind, sender)
            handler(root[0], xml, now)
    except Iso18626Error as exc:
        _record_refused(xml, kind, str(exc), now)
        return build_confirmation(
            kind if kind in TOP_LEVEL[::2] else "request",
            root,
            now,
            error_type=exc.error_type,
            error_value=str(exc),
        )
    return build_confirmation(kind, root, now)


def _guess_kind(xml: bytes) -> str:
    text = xml[:2000].decode("utf-8", "replace")
    for kind in ("supplyingAgencyMessage", "requestingAgencyMessage"):
        if f"{kind}>" in text or f"{kind} " in text:
            return kind
    return "request"


def _library(header: etree._Element, tag: str) -> Library:
    code = header.findtext(f"{_q(tag)}/{_q('agencyIdValue')}") or ""
    lib = Library.objects.filter(code=code).first()
    if lib is None:
        raise Iso18626Error(
            _("Unknown agency “%(code)s”.") % {"code": code}, "UnrecognisedDataValue"
        )
    return lib


def _on_request(body: etree._Element, xml: bytes, now: dt.datetime) -> None:
    header = body.find(_q("header"))
    supplying, requesting = (
        _library(header, "supplyingAgencyId"),
        _library(header, "requestingAgencyId"),
    )
    origin = _request_by_reference(
        header.findtext(_q("requestingAgencyRequestId")) or "", requesting
    )
    if origin is None:
        raise Iso18626Error(_("Unknown request id."), "UnrecognisedDataValue")
    bib = body.find(_q("bibliographicInfo"))
    ids = {
        (i.findtext(_q("bibliographicItemIdentifierCode")) or "").upper(): i.findtext(
            _q("bibliographicItemIdentifier")
        )
        or ""
        for i in bib.findall(_q("bibliographicItemId"))
    }
    component = bib.findtext(_q("titleOfComponent"))
    from lifeline.delivery.logic.hours import due_at
    from lifeline.delivery.services import item_key

    copy, created = DeliveryRequest.objects.get_or_create(
        library=supplying,
        origin=origin,
        defaults={
            "title": (component or bib.findtext(_q("title")) or "")[:1000],
            "source": (bib.findtext(_q("title")) if component else "")[:500],
            "authors": (bib.findtext(_q("authorOfComponent")) or bib.findtext(_q("author")) or "")[
                :500
            ],
            "volume": (bib.findtext(_q("volume")) or "")[:40],
            "issue": (bib.findtext(_q("issue")) or "")[:40],
            "pages": (bib.findtext(_q("pagesRequested")) or "")[:40],
            "doi": ids.get("DOI", "")[:200],
            "issn": ids.get("ISSN", "")[:9],
            "isbn": ids.get("ISBN", "")[:13],
            "pmid": ids.get("PMID", "")[:12],
            "doc_type": origin.doc_type,
            "year": origin.year,
            "channel": f"ISO 18626: {requesting.code}",
            "patron_name": requesting.name[:120],
            "item_key": item_key({"doi": ids.get("DOI"), "title": component or ""}),
            "created_at": now,
            "due_at": due_at(now),
            "external_id": f"iso18626:{origin.reference()}",
        },
    )
    if created:
        from lifeline.delivery.models import RequestEvent

        RequestEvent.objects.create(
            request=copy,
            at=now,
            actor_name=f"ISO 18626 {requesting.code}",
            to_status=Status.SUBMITTED,
            note=origin.reference(),
        )
    _record(supplying, copy, Direction.IN, "request", "New", xml, now=now)


def _on_supplying(body: etree._Element, xml: bytes, now: dt.datetime) -> None:
    header = body.find(_q("header"))
    requesting = _library(header, "requestingAgencyId")
    supplying = _library(header, "supplyingAgencyId")
    req = _request_by_reference(header.findtext(_q("requestingAgencyRequestId")) or "", requesting)
    if req is None:
        raise Iso18626Error(_("Unknown request id."), "UnrecognisedDataValue")
    status = body.findtext(f"{_q('statusInfo')}/{_q('status')}") or ""
    note = body.findtext(f"{_q('messageInfo')}/{_q('note')}") or ""
    who = f"ISO 18626 {supplying.code}"
    _record(requesting, req, Direction.IN, "supplyingAgencyMessage", status, xml, now=now)
    if status == "CopyCompleted" and req.is_open:
        copy = DeliveryRequest.objects.filter(library=supplying, origin=req).first()
        source = (
            copy.files.filter(purged_at__isnull=True).order_by("-created_at").first()
            if copy
            else None
        )
        if source is None:
            raise Iso18626Error(
                _("CopyCompleted, but the supplier holds no file for this request."),
                "UnrecognisedDataValue",
            )
        from lifeline.delivery.services import copy_file, notify_delivered

        f = copy_file(source, req, now=now)
        req.move(Status.DELIVERED, by=who, now=now, note=note or supplying.name)
        notify_delivered(req, f)
    elif status == "Unfilled" and req.status == Status.REQUESTED:
        # Back to staff, who can try another supplier before telling the patron "unfilled".
        reason = body.findtext(f"{_q('messageInfo')}/{_q('reasonUnfilled')}") or ""
        req.move(
            Status.IN_PROCESS, by=who, now=now, note=f"{supplying.name}: {reason} {note}".strip()
        )


def _on_requesting(body: etree._Element, xml: bytes, now: dt.datetime) -> None:
    header = body.find(_q("header"))
    supplying, requesting = (
        _library(header, "supplyingAgencyId"),
        _library(header, "requestingAgencyId"),
    )
    origin = _request_by_reference(
        header.findtext(_q("requestingAgencyRequestId")) or "", requesting
    )
    copy = (
        DeliveryRequest.objects.filter(library=supplying, origin=origin).first() if origin else None
    )
    if copy is None:
        raise Iso18626Error(_("Unknown request id."), "UnrecognisedDataValue")
    action = body.findtext(_q("action")) or ""
    _record(supplying, copy, Direction.IN, "requestingAgencyMessage", action, xml, now=now)
    if action == "Cancel" and copy.is_open:
        copy.move(
            Status.CANCELLED,
            by=f"ISO 18626 {requesting.code}",
            now=now,
            note=body.findtext(_q("note")) or "",
        )
    elif action not in ("Cancel", "StatusRequest", "Received", "Notification"):
        raise Iso18626Error(
            _("Action “%(action)s” is not supported for copies.") % {"action": action},
            "UnsupportedActionType",
        )
