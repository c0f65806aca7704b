"""Document delivery: intake with routing, staff actions, delivery by private link, purge and
privacy.

Views, API and tasks call these functions; the status rules live in `DeliveryRequest.move`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Q, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.core.notify import notify_email
from lifeline.delivery.choices import OPEN_STATUSES, DocType, Status, SupplierKind, UnfilledReason
from lifeline.delivery.logic import hours
from lifeline.delivery.logic.files import check_upload
from lifeline.delivery.logic.identifiers import (
    normalise_doi,
    normalise_isbn,
    normalise_issn,
    normalise_pmid,
)
from lifeline.delivery.models import DeliveryFile, DeliveryRequest, RequestEvent, Supplier
from lifeline.registry.models import KbartTitle

ITEM_FIELDS = (
    "doc_type",
    "title",
    "authors",
    "source",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "isbn",
    "issn",
    "pmid",
    "citation",
    "note",
)


def normalise_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Clean a request's bibliographic fields; raise ValidationError naming each bad identifier."""
    out = {k: data.get(k) for k in ITEM_FIELDS if data.get(k) not in (None, "")}
    errors: dict[str, str] = {}
    for name, fn in (
        ("doi", normalise_doi),
        ("isbn", normalise_isbn),
        ("issn", normalise_issn),
        ("pmid", normalise_pmid),
    ):
        if out.get(name):
            value = fn(str(out[name]))
            if value is None:
                errors[name] = _("“%(value)s” is not a valid %(kind)s.") % {
                    "value": out[name],
                    "kind": name.upper(),
                }
            else:
                out[name] = value
    if not str(out.get("title") or "").strip():
        errors["title"] = _("Please give the title.")
    if out.get("doc_type") and out["doc_type"] not in DocType.values:
        errors["doc_type"] = _("Unknown document type “%(value)s”.") % {"value": out["doc_type"]}
    if errors:
        raise ValidationError(errors)
    for key in ("title", "authors", "source", "volume", "issue", "pages"):
        if key in out:
            out[key] = re.sub(r"\s+", " ", str(out[key])).strip()
    return out


def item_key(fields: dict[str, Any]) -> str:
    """One key per item, so the same article asked twice (with different spelling) is one item."""
    if fields.get("doi"):
        return "doi:" + str(fields["doi"]).lower()
    if fields.get("pmid"):
        return "pmid:" + str(fields["pmid"])
    title = re.sub(r"\W+", "", str(fields.get("title", "")).casefold())
    number = fields.get("isbn") or fields.get("issn") or ""
    parts = [
        number,
        fields.get("volume", ""),
        fields.get("issue", ""),
        fields.get("pages", ""),
        title,
    ]
    base = "|".join(str(p) for p in parts)
    return "h:" + hashlib.sha256(base.encode()).hexdigest()[:40]


def find_holding(
    library: Library, *, issn: str = "", isbn: str = "", year: int | None = None
) -> KbartTitle | None:
    """A KBART title of an active resource of this library that covers the item's year."""
    ids = [i for i in (issn, isbn) if i]
    if not ids:
        return None
    titles = (
        KbartTitle.objects.for_library(library)
        .filter(
            Q(print_identifier__in=ids) | Q(online_identifier__in=ids), resource__is_active=True
        )
        .select_related("resource", "resource__library")
        .prefetch_related("resource__routes")
    )
    return next((t for t in titles if t.covers(year)), None)


def access_link(title: KbartTitle) -> str:
    routes = title.resource.ordered_routes()
    if routes:
        return routes[0].link() or title.title_url or title.resource.homepage
    return title.title_url or title.resource.homepage


def submit(
    library: Library,
    data: dict[str, Any],
    *,
    patron: Any = None,
    idempotency_key: str = "",
    channel: str = "web",
    now: dt.datetime | None = None,
) -> tuple[DeliveryRequest, bool]:
    """File a request. Returns (request, created): a repeat of an open request returns the first
    one.

    Routing happens here, before staff see anything: an item the library already holds (KBART,
    with coverage) is answered at once with the access link and counted as a deflection.
    """
    now = now or timezone.now()
    fields = normalise_fields(data)
    key = item_key(fields)
    # One query answers both "is this the same form again?" and "has this patron asked already?".
    again = Q(pk__in=[])
    if idempotency_key:
        again |= Q(library=library, idempotency_key=idempotency_key)
    if patron is not None:
        again |= Q(patron=patron, item_key=key, status__in=OPEN_STATUSES)
    if idempotency_key or patron is not None:
        existing = next(iter(DeliveryRequest.objects.filter(again).order_by()[:1]), None)
        if existing:
            return existing, False
    contact = _contact(patron)
    holding = find_holding(
        library, issn=fields.get("issn", ""), isbn=fields.get("isbn", ""), year=fields.get("year")
    )
    req = DeliveryRequest(
        library=library,
        patron=patron,
        item_key=key,
        channel=channel[:100],
        idempotency_key=idempotency_key[:100],
        created_at=now,
        **contact,
        **fields,
    )
    if holding is not None:
        req.status, req.closed_at = Status.DEFLECTED, now
        req.deflection_url = access_link(holding)[:1000]
        req.deflection_title = f"{holding.resource}: {holding.publication_title}"[:300]
    else:
        req.due_at = hours.due_at(now)
    try:
        with transaction.atomic():
            req.save()
            RequestEvent.objects.create(
                request=req,
                at=now,
                actor=patron,
                actor_name=_actor_name(patron),
                to_status=req.status,
                note=req.deflection_title,
            )
    except IntegrityError:
        # Two submissions in the same instant: the constraint let one in; answer with that one.
        twin_q = Q(pk__in=[])
        if idempotency_key:
            twin_q |= Q(library=library, idempotency_key=idempotency_key)
        if patron is not None:
            twin_q |= Q(patron=patron, item_key=key, status__in=OPEN_STATUSES)
        twin = DeliveryRequest.objects.filter(twin_q).first()
        if twin is None:
            raise
        return twin, False
    return req, True


def _contact(user: Any) -> dict[str, str]:
    if user is None:
        return {}
    patron = getattr(user, "patron", None) if hasattr(user, "patron") else None
    name = (patron.display_name if patron else "") or user.get_full_name() or user.get_username()
    return {
        "patron_name": name[:120],
        "patron_email": user.email or "",
        "patron_phone": (patron.phone if patron else "")[:60],
    }


def _actor_name(user: Any) -> str:
    return user.get_username() if getattr(user, "is_authenticated", False) else "system"


def reopen_deflected(
    req: DeliveryRequest, *, by: Any = None, now: dt.datetime | None = None
) -> DeliveryRequest:
    """The patron says the link did not give the full text: the request goes to staff after all."""
    now = now or timezone.now()
    with transaction.atomic():
        req.move(
            Status.SUBMITTED,
            by=by,
            now=now,
            note=_("The access link did not give the full text."),
            closed_at=None,
            due_at=hours.due_at(now),
        )
    return req


def assign(
    requests: list[DeliveryRequest], user: Any, *, by: Any = None, now: dt.datetime | None = None
) -> int:
    """Batch assignment: open requests get the assignee; submitted ones move to in process."""
    done = 0
    with transaction.atomic():
        for req in requests:
            if not req.is_open:
                continue
            req.assignee = user
            if req.status == Status.SUBMITTED:
                req.move(
                    Status.IN_PROCESS,
                    by=by,
                    now=now,
                    note=_("Assigned to %(user)s") % {"user": user},
                )
            else:
                req.save(update_fields=["assignee"])
            done += 1
    return done


def send_to_supplier(
    req: DeliveryRequest, supplier: Supplier, *, by: Any = None, now: dt.datetime | None = None
) -> None:
    if supplier.library_id != req.library_id or not supplier.is_active:
        raise ValidationError(_("This supplier is not one of the library's active suppliers."))
    with transaction.atomic():
        req.move(Status.REQUESTED, by=by, now=now, supplier=supplier, note=str(supplier))
        if supplier.kind == SupplierKind.PARTNER and supplier.partner_id:
            from lifeline.delivery.logic import iso18626

            iso18626.send_request(req, supplier.partner, now=now)


def deliver(
    req: DeliveryRequest,
    upload: Any,
    *,
    by: Any = None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> DeliveryFile:
    """Store the file behind a private link, close the request, tell the patron (outbox, same
    transaction).
    """
    now = now or timezone.now()
    ext, content_type = check_upload(upload)
    with transaction.atomic():
        # The lock makes two staff delivering the same request at once produce one delivery.
        DeliveryRequest.objects.select_for_update().filter(pk=req.pk).first()
        req.refresh_from_db()
        if req.status not in (Status.SUBMITTED, Status.IN_PROCESS, Status.REQUESTED):
            raise ValidationError(_("This request is already closed."))
        f = DeliveryFile(
            request=req,
            original_name=(upload.name or f"document.{ext}")[:255],
            content_type=content_type,
            size=upload.size,
            expires_at=now + dt.timedelta(days=settings.DELIVERY_LINK_DAYS),
            created_at=now,
        )
        upload.seek(0)
        f.file.save(f"document.{ext}", upload, save=False)
        f.save()
        try:
            req.move(Status.DELIVERED, by=by, now=now, note=f.original_name)
        except ValidationError:
            f.file.delete(save=False)
            raise
        if notify:
            notify_delivered(req, f)
        if req.origin_id:
            from lifeline.delivery.logic import iso18626

            iso18626.send_supplying_message(req, "CopyCompleted", now=now, file=f)
    return f


def notify_delivered(req: DeliveryRequest, f: DeliveryFile) -> None:
    if not req.patron_email:
        return
    link = settings.SITE_URL + reverse("delivery:download", args=[f.token])
    subject = _("Your document is ready: %(title)s") % {"title": req.title[:120]}
    body = _(
        "The document you asked for (request %(ref)s) is ready:\n\n%(title)s\n\n"
        "Download it here until %(until)s:\n%(link)s\n\n"
        "The link is personal: please do not pass it on."
    ) % {
        "ref": req.reference(),
        "title": req.title,
        "until": timezone.localtime(f.expires_at).strftime("%Y-%m-%d %H:%M"),
        "link": link,
    }
    notify_email(
        req.library,
        [req.patron_email],
        subject,
        body,
        kind="delivery.delivered",
        dedupe_key=f"delivery:{f.pk}",
    )


def mark_unfilled(
    req: DeliveryRequest,
    reason: str,
    *,
    note: str = "",
    by: Any = None,
    now: dt.datetime | None = None,
) -> None:
    if reason not in UnfilledReason.values:
        raise ValidationError(_("Please choose why the request cannot be filled."))
    with transaction.atomic():
        req.move(Status.UNFILLED, by=by, now=now, note=note, unfilled_reason=reason)
        if req.patron_email:
            notify_email(
                req.library,
                [req.patron_email],
                _("We could not supply: %(title)s") % {"title": req.title[:120]},
                _("Sorry, we could not supply request %(ref)s (%(reason)s). %(note)s")
                % {"ref": req.reference(), "reason": UnfilledReason(reason).label, "note": note},
                kind="delivery.unfilled",
                dedupe_key=f"delivery-unfilled:{req.pk}",
            )
        if req.origin_id:
            from lifeline.delivery.logic import iso18626

            iso18626.send_supplying_message(req, "Unfilled", now=now, reason=reason, note=note)


def cancel(
    req: DeliveryRequest, *, by: Any = None, note: str = "", now: dt.datetime | None = None
) -> None:
    with transaction.atomic():
        req.move(Status.CANCELLED, by=by, now=now, note=note)
        if (
            req.supplier_id
            and req.supplier.kind == SupplierKind.PARTNER
            and req.supplier.partner_id
        ):
            from lifeline.delivery.logic import iso18626

            iso18626.send_requesting_message(req, "Cancel", note=note, now=now)


def record_download(f: DeliveryFile, now: dt.datetime | None = None) -> None:
    DeliveryFile.objects.filter(pk=f.pk).update(
        downloads=F("downloads") + 1, last_download_at=now or timezone.now()
    )


def copy_file(
    source: DeliveryFile, target: DeliveryRequest, *, now: dt.datetime | None = None
) -> DeliveryFile:
    """A partner's supplied file, stored again for the requesting library's patron (own link, own
    expiry).
    """
    now = now or timezone.now()
    f = DeliveryFile(
        request=target,
        original_name=source.original_name,
        content_type=source.content_type,
        size=source.size,
        expires_at=now + dt.timedelta(days=settings.DELIVERY_LINK_DAYS),
        created_at=now,
    )
    with source.file.open("rb") as fh:
        ext = source.file.name.rsplit(".", 1)[-1]
        f.file.save(f"document.{ext}", ContentFile(fh.read()), save=False)
    f.save()
    return f


def purge_files(now: dt.datetime | None = None) -> int:
    """Delete stored files past their purge date; the request (and its statistics) stays."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.DELIVERY_PURGE_DAYS)
    done = 0
    for f in DeliveryFile.objects.filter(purged_at__isnull=True, created_at__lt=cutoff).iterator():
        if f.file:
            f.file.delete(save=False)
        DeliveryFile.objects.filter(pk=f.pk).update(file="", purged_at=now)
        done += 1
    return done


def anonymise(now: dt.datetime | None = None) -> int:
    """Remove names and contacts from requests closed longer ago than the privacy period."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.DELIVERY_PRIVACY_DAYS)
    return DeliveryRequest.objects.filter(anonymised_at__isnull=True, closed_at__lt=cutoff).update(
        patron=None, patron_name="", patron_email="", patron_phone="", note="", anonymised_at=now
    )


# --- for other modules ------------------------------------------------------------------


def _range(library: Library, start: dt.date, end: dt.date) -> Any:
    from lifeline.delivery.logic.stats import period

    return DeliveryRequest.objects.for_library(library).filter(**period(start, end))


def volume_between(library: Library, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Requests (not counting those answered at once from holdings), supplied, fill rate in %."""
    from lifeline.delivery.logic.stats import summary

    s = summary(library, start, end)
    return {"requested": s["requested"], "supplied": s["supplied"], "fill_rate": s["fill_rate"]}


def unheld_demand(
    library: Library, start: dt.date, end: dt.date, limit: int = 100
) -> list[dict[str, Any]]:
    """Titles patrons asked for that the library does not hold (not deflected), most asked first."""
    rows = (
        _range(library, start, end)
        .exclude(status=Status.DEFLECTED)
        # An article's "title" for acquisitions is its journal; a book's is its own title.
        .annotate(wanted=Case(When(isbn="", source__gt="", then=F("source")), default=F("title")))
        .values("wanted", "issn", "isbn")
        .annotate(count=Count("id"))
        .order_by("-count", "wanted")[:limit]
    )
    return [
        {"title": r["wanted"], "issn": r["issn"], "isbn": r["isbn"], "count": r["count"]}
        for r in rows
    ]
