"""A supplier's CopyCompleted: the document behind its URL, fetched and offered to our patron.

The URL (deliveryInfo/itemId) is someone else's address, so it is fetched only through
`lifeline.core.outbound.fetch` (SSRF guard, address pinning, redirect checks) with a size limit,
and what comes back must be a PDF by its first bytes, whatever the headers say. Anything wrong
refuses the whole message (the supplier gets the error confirmation; nothing is half-applied).
A library that prefers it (`Peer.link_only`) passes the link on to the patron instead.
A URL of this installation's own supplier-side download (a partner library) is read directly.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import Resolver404, resolve
from django.utils import timezone, translation

from lifeline.core import outbound
from lifeline.core.notify import notify_email
from lifeline.delivery.choices import Role, Status
from lifeline.delivery.logic import rawsql
from lifeline.delivery.logic.iso18626 import Iso18626Error, Message, english
from lifeline.delivery.models import DeliveryFile, IllTransaction

PDF_MAGIC = b"%PDF-"
MAX_DOCUMENT_BYTES = 50 * 2**20
TIMEOUT = 60.0


def _own_file(url: str) -> DeliveryFile | None:
    """The file behind one of our own supplier-side download links, if `url` is one."""
    parts, site = urlsplit(url), urlsplit(settings.SITE_URL)
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name != "delivery:iso_document":
        return None
    return shared_file(match.kwargs["token"])


def shared_file(token: str, now: dt.datetime | None = None) -> DeliveryFile | None:
    """A file our library supplied to a peer (only those are reachable by token alone)."""
    f = (
        DeliveryFile.objects.filter(token=token, request__transactions__role=Role.SUPPLIER)
        .select_related("request")
        .first()
    )
    return f if f is not None and f.is_available(now) else None


def fetch_pdf(url: str, *, allow_internal: bool) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise Iso18626Error(
            english("The delivery URL is not an http(s) address."), "UnrecognisedDataValue"
        )
    try:
        # The fetcher's messages go into the errorValue: English, whatever the page's language.
        with translation.override("en"):
            result = outbound.fetch(
                url,
                allow_internal=allow_internal,
                max_bytes=MAX_DOCUMENT_BYTES,
                timeout=TIMEOUT,
                keep_alive=True,
            )
    except outbound.OutboundError as exc:
        raise Iso18626Error(
            english("The document at the delivery URL could not be fetched: %(e)s", e=str(exc)),
            "UnrecognisedDataValue",
        ) from exc
    if result.status != 200:
        raise Iso18626Error(
            english("The delivery URL answered HTTP %(s)s.", s=result.status),
            "UnrecognisedDataValue",
        )
    if not result.content.startswith(PDF_MAGIC):
        raise Iso18626Error(
            english("The document at the delivery URL is not a PDF."), "UnrecognisedDataValue"
        )
    return result.content


def take_delivery(txn: IllTransaction, msg: Message, now: dt.datetime) -> None:
    from lifeline.delivery.services import copy_file, notify_delivered

    req, peer = txn.request, txn.peer
    url = msg.text("deliveryInfo/itemId")
    if not url.lower().startswith(("http://", "https://")):
        url = ""
    who = f"ISO 18626 {peer.agency_id_type}:{peer.agency_id_value}"[:150]
    if not req.is_open:
        return
    txn.document_url = url[:1000]
    own = _own_file(url) if url else None
    if own is not None:
        f = copy_file(own, req, now=now)
    elif url and peer.link_only:
        req.move(Status.DELIVERED, by=who, now=now, note=url[:1000])
        _notify_link(req, url)
        return
    elif url:
        data = fetch_pdf(url, allow_internal=peer.allow_internal)
        f = DeliveryFile(
            request=req,
            original_name="document.pdf",
            content_type="application/pdf",
            size=len(data),
            expires_at=now + dt.timedelta(days=settings.DELIVERY_LINK_DAYS),
            created_at=now,
        )
        f.file.save("document.pdf", ContentFile(data), save=False)
        rawsql.insert(f)  # one prepared INSERT, as for the messages (logic/rawsql.py)
    else:
        how = msg.text("deliveryInfo/sentVia") or "?"
        req.move(Status.DELIVERED, by=who, now=now, note=english("Sent by %(how)s.", how=how))
        return
    req.move(Status.DELIVERED, by=who, now=now, note=peer.name)
    notify_delivered(req, f)


def _notify_link(req: object, url: str) -> None:
    from django.utils.translation import gettext as _

    from lifeline.delivery.models import DeliveryRequest

    assert isinstance(req, DeliveryRequest)
    if not req.patron_email:
        return
    notify_email(
        req.library,
        [req.patron_email],
        _("Your document is ready: %(title)s") % {"title": req.title[:120]},
        _("The supplier of request %(ref)s gives the document here:\n\n%(link)s")
        % {"ref": req.reference(), "link": url},
        kind="delivery.delivered",
        dedupe_key=f"delivery-link:{req.pk}",
    )


__all__ = ["fetch_pdf", "shared_file", "take_delivery", "timezone"]
