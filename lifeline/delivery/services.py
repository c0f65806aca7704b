"""Document delivery: intake with routing, staff actions, delivery by private link, purge and
privacy.

Views, API and tasks call these functions; the status rules live in `DeliveryRequest.move`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Case, Count, F, Q, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core import rows
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
from lifeline.registry.models import AccessRoute, KbartTitle, Resource

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
    """A KBART title of an active resource of this library that covers the item's year.

    Every request with an identifier asks this before staff see it: one hand-written query on
    the identifier indexes, with the coverage test in SQL, answers without the ORM's cost of
    building it, and a hit comes back with its resource and library; the routes of a hit (for
    the access link) take a second, as plain.
    """
    ids = [i for i in (issn, isbn) if i]
    if not ids:
        return None
    conn = connections[router.db_for_read(KbartTitle)]
    params: list[Any] = [library.pk, *ids, *ids]
    if year is not None:
        # Covers the year: coverage starts before the next year and ends in it or later.
        year = min(max(int(year), 1), 9998)
        day = KbartTitle._meta.get_field("date_first_issue_online")
        params += [
            day.get_db_prep_value(dt.date(year + 1, 1, 1), conn),
            day.get_db_prep_value(dt.date(year, 1, 1), conn),
        ]
    sql = _holding_sql(conn, len(ids), year is not None)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    if row is None:
        return None
    title: KbartTitle
    title, resource, resource.library = rows.instances((KbartTitle, Resource, Library), conn, row)
    title.resource = resource
    # The routes of the hit, for the access link (Resource.ordered_routes picks among them).
    route_sql = _ROUTES_SQL.get(conn.vendor)
    if route_sql is None:
        qn = conn.ops.quote_name
        route_sql = _ROUTES_SQL[conn.vendor] = (
            f"SELECT {rows.select_list(AccessRoute, 'a', qn)} "  # noqa: S608 - model names
            f"FROM {qn(AccessRoute._meta.db_table)} a WHERE a.resource_id = %s"
        )
    with conn.cursor() as cur:
        cur.execute(route_sql, [title.resource.pk])
        routes = [rows.instance(AccessRoute, conn, r) for r in cur.fetchall()]
    for route in routes:
        route.resource = title.resource
    rows.set_prefetched(title.resource, "routes", routes)
    return title


_ROUTES_SQL: dict[str, str] = {}
_HOLDING_SQL: dict[tuple[str, int, bool], str] = {}


def _holding_sql(conn: Any, identifiers: int, with_year: bool) -> str:
    key = (conn.vendor, identifiers, with_year)
    if key not in _HOLDING_SQL:
        qn = conn.ops.quote_name
        marks = ", ".join(["%s"] * identifiers)
        coverage = (
            " AND (t.date_first_issue_online IS NULL OR t.date_first_issue_online < %s)"
            " AND (t.date_last_issue_online IS NULL OR t.date_last_issue_online >= %s)"
            if with_year
            else ""
        )
        columns = ", ".join(
            rows.select_list(model, alias, qn)
            for model, alias in ((KbartTitle, "t"), (Resource, "r"), (Library, "l"))
        )
        _HOLDING_SQL[key] = (
            f"SELECT {columns} FROM {qn(KbartTitle._meta.db_table)} t "  # noqa: S608 - names
            f"JOIN {qn(Resource._meta.db_table)} r ON r.id = t.resource_id "
            f"JOIN {qn(Library._meta.db_table)} l ON l.id = r.library_id "
            f"WHERE r.library_id = %s AND r.is_active "
            f"AND (t.print_identifier IN ({marks}) OR t.online_identifier IN ({marks}))"
            f"{coverage} ORDER BY t.publication_title, t.id LIMIT 1"
        )
    return _HOLDING_SQL[key]


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

    Intake is the hot path (hundreds per second), so the database does the duplicate check: the
    row and its first history row go in with one `INSERT ... ON CONFLICT DO NOTHING`, and the
    unique constraints on (library, idempotency key) and (patron, item, open) decide. Nothing is
    asked before the insert; only a refused insert looks up the request that was there first.
    """
    now = now or timezone.now()
    fields = normalise_fields(data)
    key = item_key(fields)
    idempotency_key = idempotency_key[:100]
    holding = find_holding(
        library, issn=fields.get("issn", ""), isbn=fields.get("isbn", ""), year=fields.get("year")
    )
    req = DeliveryRequest(
        library=library,
        patron=patron,
        item_key=key,
        channel=channel[:100],
        idempotency_key=idempotency_key,
        created_at=now,
        **_contact(patron),
        **fields,
    )
    if holding is not None:
        req.status, req.closed_at = Status.DEFLECTED, now
        req.deflection_url = access_link(holding)[:1000]
        req.deflection_title = f"{holding.resource}: {holding.publication_title}"[:300]
    else:
        req.due_at = hours.due_at(now)
    # A refused insert whose first request is gone by the time we look (cancelled, closed in
    # between) may go in on the next try; three tries are plenty for a person's double click.
    for _attempt in range(3):
        if _insert(req, actor=patron, note=req.deflection_title, now=now):
            return req, True
        first = _first_of(library, patron, key, idempotency_key)
        if first is not None:
            return first, False
    raise IntegrityError("a delivery request was refused by a constraint but no twin was found")


# Every stored column of a request but the id, in model order: the insert below is written once
# from the model, so a new field needs no change here.
_REQUEST_FIELDS = [f for f in DeliveryRequest._meta.concrete_fields if not f.primary_key]
_EVENT_FIELDS = [
    f
    for name in ("request", "at", "actor", "actor_name", "from_status", "to_status", "note")
    for f in RequestEvent._meta.concrete_fields
    if f.name == name
]


_SQL: dict[str, tuple[str, str]] = {}


def _insert_sql(vendor: str, qn: Callable[[Any], str]) -> tuple[str, str]:
    """(request insert, event insert) for this database; on PostgreSQL the first does both."""
    if vendor in _SQL:
        return _SQL[vendor]
    req_table, ev_table = DeliveryRequest._meta.db_table, RequestEvent._meta.db_table
    cols = ", ".join(qn(f.column) for f in _REQUEST_FIELDS)
    marks = ", ".join(["%s"] * len(_REQUEST_FIELDS))
    # No conflict target: every unique constraint of the table (idempotency key, open item of the
    # patron) turns a duplicate into "no row" instead of an error that would end a transaction.
    insert = (
        f"INSERT INTO {qn(req_table)} ({cols}) VALUES ({marks}) "  # noqa: S608 - model names
        f"ON CONFLICT DO NOTHING RETURNING {qn('id')}"
    )
    ev_cols = ", ".join(qn(f.column) for f in _EVENT_FIELDS)
    ev_marks = ", ".join(["%s"] * (len(_EVENT_FIELDS) - 1))  # all but the request id
    if vendor == "postgresql":
        # One statement, so one round trip and one implicit transaction: the event row exists
        # exactly when the request row does.
        _SQL[vendor] = (
            f"WITH ins AS ({insert}), ev AS (INSERT INTO {qn(ev_table)} ({ev_cols}) "  # noqa: S608
            f"SELECT {qn('id')}, {ev_marks} FROM ins) SELECT {qn('id')} FROM ins",
            "",
        )
    else:
        event = f"INSERT INTO {qn(ev_table)} ({ev_cols}) VALUES (%s, {ev_marks})"  # noqa: S608
        _SQL[vendor] = (insert, event)
    return _SQL[vendor]


def _insert(req: DeliveryRequest, *, actor: Any, note: str, now: dt.datetime) -> bool:
    """Store the request and its first event; False when a unique constraint refused it."""
    conn = connections[router.db_for_write(DeliveryRequest)]
    row_params = [f.get_db_prep_save(getattr(req, f.attname), conn) for f in _REQUEST_FIELDS]
    event = [now, getattr(actor, "pk", None), _actor_name(actor), "", req.status, note]
    ev_params = [f.get_db_prep_save(v, conn) for f, v in zip(_EVENT_FIELDS[1:], event, strict=True)]
    request_sql, event_sql = _insert_sql(conn.vendor, conn.ops.quote_name)
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute(request_sql, row_params + ev_params)
            row = cur.fetchone()
    else:
        with transaction.atomic(using=conn.alias), conn.cursor() as cur:
            cur.execute(request_sql, row_params)
            row = cur.fetchone()
            if row is not None:
                cur.execute(event_sql, [row[0], *ev_params])
    if row is None:
        return False
    req.pk = row[0]
    req._state.adding, req._state.db = False, conn.alias
    return True


def _first_of(
    library: Library, patron: Any, key: str, idempotency_key: str
) -> DeliveryRequest | None:
    """The request that made the insert conflict: the same form again (idempotency key) first,
    else the patron's open request for the same item."""
    again = Q(pk__in=[])
    if idempotency_key:
        again |= Q(library=library, idempotency_key=idempotency_key)
    if patron is not None:
        again |= Q(patron=patron, item_key=key, status__in=OPEN_STATUSES)
    found = list(DeliveryRequest.objects.filter(again).order_by("pk")[:2])
    same_form = [r for r in found if idempotency_key and r.idempotency_key == idempotency_key]
    return next(iter(same_form or found), None)


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
        if supplier.peer_id or (supplier.kind == SupplierKind.PARTNER and supplier.partner_id):
            from lifeline.delivery.logic import ill

            ill.send_request(req, supplier, now=now, by=by)
        else:
            req.move(Status.REQUESTED, by=by, now=now, supplier=supplier, note=str(supplier))


def _supplier_txn(req: DeliveryRequest) -> Any:
    """The ISO 18626 transaction in which we supply this request to a peer, if any."""
    from lifeline.delivery.choices import Role
    from lifeline.delivery.logic import ill

    return ill.open_transaction(req, Role.SUPPLIER)


def _requester_txn(req: DeliveryRequest) -> Any:
    from lifeline.delivery.choices import Role
    from lifeline.delivery.logic import ill

    return ill.open_transaction(req, Role.REQUESTER)


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
        txn = _supplier_txn(req)
        if txn is not None:
            from lifeline.delivery.logic import ill

            url = settings.SITE_URL + reverse("delivery:iso_document", args=[f.token])
            ill.supplier_status(txn, "CopyCompleted", url=url, by=by, now=now)
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
        txn = _supplier_txn(req)
        if txn is not None:
            from lifeline.delivery.logic import ill

            ill.supplier_status(txn, "Unfilled", reason=reason, note_text=note, by=by, now=now)
        else:
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


def cancel(
    req: DeliveryRequest, *, by: Any = None, note: str = "", now: dt.datetime | None = None
) -> None:
    from lifeline.delivery.logic import ill

    with transaction.atomic():
        theirs = _supplier_txn(req)
        if theirs is not None and not theirs.is_final:
            ill.supplier_status(theirs, "Cancelled", note_text=note, by=by, now=now)
            return
        req.move(Status.CANCELLED, by=by, now=now, note=note)
        ours = _requester_txn(req)
        if (
            ours is not None
            and not ours.is_final
            and "Cancel" in ill.ACTIONS.get(ours.iso_status, frozenset())
        ):
            ill.requester_action(ours, "Cancel", note_text=note, now=now)


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
        ext = (source.file.name or "").rsplit(".", 1)[-1]
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
