"""Reader recommendations (荐购) and home delivery of print books (送书服务).

A recommendation is answered at once when the library holds the book; otherwise it waits for
the acquisitions librarian, who orders or declines it; the patron is told when it arrives.
A home delivery keeps the patron's address only while the book is out: it is erased when the
book is back or the request is cancelled. Every move writes an Event row; notices go through
the outbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.core.notify import notify_email
from lifeline.selection.choices import SHIP_CLOSED, RecStatus, ShipStatus
from lifeline.selection.logic.normalise import IsbnError, parse_isbn, tidy, work_key
from lifeline.selection.models import (
    Event,
    Holding,
    HomeDelivery,
    IllegalTransition,
    Recommendation,
    Title,
)
from lifeline.selection.services import patron_of

# A patron may have this many books out for home delivery at once.
MAX_OPEN_DELIVERIES = 5


def _need_patron(user: Any, library: Library) -> None:
    if patron_of(user, library) is None:
        raise PermissionDenied


def _mail(library: Library, user: Any, subject: str, body: str, key: str) -> None:
    email = getattr(user, "email", "") if user is not None else ""
    if email:
        notify_email(library, [email], subject, body, kind="selection", dedupe_key=key)


def find_held(library: Library, isbn: str, key: str) -> Holding | None:
    if isbn:
        found = Holding.objects.filter(library=library, isbn=isbn).first()
        if found:
            return found
    if key:
        return Holding.objects.filter(library=library, work_key=key).first()
    return None


def find_offered(library: Library, isbn: str, key: str) -> Title | None:
    qs = Title.objects.filter(library=library).order_by("price")
    if isbn:
        found = qs.filter(isbn=isbn).first()
        if found:
            return found
    return qs.filter(work_key=key).first() if key else None


def recommend(
    library: Library,
    user: Any,
    *,
    isbn: str = "",
    title: str = "",
    author: str = "",
    publisher: str = "",
    citation: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Recommendation:
    _need_patron(user, library)
    now = now or timezone.now()
    try:
        normal = parse_isbn(isbn) or parse_isbn(citation)
    except IsbnError as exc:
        raise ValidationError(
            {"isbn": _("The ISBN %(isbn)s fails its checksum: check the digits.") % {"isbn": exc}}
        ) from exc
    title = tidy(title, 800)
    if not title and citation:
        title = tidy(citation.split(".")[0] if "." in citation[:200] else citation, 800)
    offered = None
    key = work_key(title, author, publisher)
    held = find_held(library, normal, key)
    if not held:
        offered = find_offered(library, normal, key)
    if not title and offered is not None:
        title = offered.title
    if not title and not normal:
        raise ValidationError({"title": _("Give an ISBN, a title or a citation.")})
    duplicate = (
        Recommendation.objects.filter(
            library=library, user=user, status__in=[RecStatus.QUEUED, RecStatus.ORDERED]
        ).filter(isbn=normal)
        if normal
        else None
    )
    if duplicate is not None and duplicate.exists():
        raise ValidationError(
            _("You have already recommended this book: see “My recommendations”.")
        )
    with transaction.atomic():
        rec = Recommendation.objects.create(
            library=library,
            user=user,
            isbn=normal,
            title=title or normal,
            author=tidy(author, 300),
            publisher=tidy(publisher, 200),
            citation=citation[:4000],
            note=note[:500],
            status=RecStatus.HELD if held else RecStatus.QUEUED,
            holding=held,
            matched_title=offered,
            answer=(
                _("The library holds this book: %(title)s %(call)s")
                % {"title": held.title, "call": held.call_number}
            )[:500]
            if held
            else "",
            created_at=now,
            closed_at=now if held else None,
        )
        Event.objects.create(library=library, recommendation=rec, new=rec.status, by=user, at=now)
    return rec


def move_recommendation(
    rec: Recommendation, new: str, user: Any, *, answer: str = "", now: dt.datetime | None = None
) -> Recommendation:
    now = now or timezone.now()
    with transaction.atomic():
        rec = Recommendation.objects.select_for_update().get(pk=rec.pk)
        if not rec.can_move(new):
            raise IllegalTransition(
                _("A recommendation that is %(old)s cannot become %(new)s.")
                % {"old": rec.get_status_display(), "new": RecStatus(new).label}
            )
        old = rec.status
        rec.status = new
        if answer:
            rec.answer = answer[:500]
        if new in (RecStatus.ARRIVED, RecStatus.REJECTED):
            rec.closed_at = now
        rec.save()
        Event.objects.create(
            library_id=rec.library_id,
            recommendation=rec,
            old=old,
            new=new,
            by=user,
            at=now,
            note=answer[:300],
        )
        if new in (RecStatus.ARRIVED, RecStatus.REJECTED):
            subject = (
                _("The book you recommended has arrived: %(title)s")
                if new == RecStatus.ARRIVED
                else _("About the book you recommended: %(title)s")
            ) % {"title": rec.title[:120]}
            body = "\n".join(
                x
                for x in (
                    subject,
                    rec.answer,
                    reverse("selection:recommendation", args=[rec.pk]),
                )
                if x
            )
            _mail(rec.library, rec.user, subject, body, f"rec-{rec.pk}-{new}")
    return rec


# --- home delivery ------------------------------------------------------------------------------


def request_delivery(
    library: Library,
    user: Any,
    *,
    holding_id: int | None,
    title: str,
    recipient: str,
    phone: str,
    address: str,
    now: dt.datetime | None = None,
) -> HomeDelivery:
    _need_patron(user, library)
    now = now or timezone.now()
    holding = None
    if holding_id is not None:
        holding = Holding.objects.filter(library=library, pk=holding_id).first()
        if holding is None:
            raise ValidationError(_("This book is not in the library's holdings."))
        title = holding.title
    title = tidy(title, 800)
    if not title:
        raise ValidationError({"title": _("Which book? Give its title.")})
    if not address.strip() or not phone.strip() or not recipient.strip():
        raise ValidationError(_("A delivery needs a recipient, a phone number and an address."))
    open_count = (
        HomeDelivery.objects.filter(library=library, user=user)
        .exclude(status__in=SHIP_CLOSED)
        .count()
    )
    if open_count >= MAX_OPEN_DELIVERIES:
        raise ValidationError(
            _("You already have %(n)d books on their way or at home: return one first.")
            % {"n": open_count}
        )
    with transaction.atomic():
        delivery = HomeDelivery.objects.create(
            library=library,
            user=user,
            holding=holding,
            title=title,
            call_number=holding.call_number if holding else "",
            recipient=tidy(recipient, 100),
            phone=tidy(phone, 40),
            address=tidy(address, 300),
            created_at=now,
        )
        Event.objects.create(
            library=library, delivery=delivery, new=delivery.status, by=user, at=now
        )
    return delivery


# The patron confirms receipt, sends the book back or cancels; the desk does the rest.
PATRON_MOVES = frozenset({ShipStatus.RECEIVED, ShipStatus.RETURN_SHIPPED, ShipStatus.CANCELLED})


def may_move_delivery(user: Any, delivery: HomeDelivery, new: str, *, staff: bool) -> bool:
    """Whether `user` may ask for this move (the workflow then says whether it is legal)."""
    if new not in ShipStatus.values:
        return False
    return staff or (delivery.user_id == user.pk and new in PATRON_MOVES)


def move_delivery(
    delivery: HomeDelivery,
    new: str,
    user: Any,
    *,
    tracking_no: str = "",
    courier: str = "",
    now: dt.datetime | None = None,
) -> HomeDelivery:
    now = now or timezone.now()
    with transaction.atomic():
        d = HomeDelivery.objects.select_for_update().get(pk=delivery.pk)
        if not d.can_move(new):
            raise IllegalTransition(
                _("A delivery that is %(old)s cannot become %(new)s.")
                % {"old": d.get_status_display(), "new": ShipStatus(new).label}
            )
        tracking_no = tidy(tracking_no, 60)
        if new in (ShipStatus.SHIPPED, ShipStatus.RETURN_SHIPPED) and not tracking_no:
            raise ValidationError(_("Enter the courier's tracking number."))
        old = d.status
        d.status = new
        if new == ShipStatus.SHIPPED:
            d.tracking_no, d.courier, d.shipped_at = tracking_no, tidy(courier, 60), now
        elif new == ShipStatus.RETURN_SHIPPED:
            d.return_tracking_no = tracking_no
        elif new == ShipStatus.RECEIVED:
            d.received_at = now
        if new in SHIP_CLOSED:
            d.closed_at = now
            d.recipient = d.phone = d.address = ""
            d.address_erased_at = now
        d.save()
        Event.objects.create(
            library_id=d.library_id, delivery=d, old=old, new=new, by=user, at=now, note=tracking_no
        )
        if new == ShipStatus.SHIPPED:
            subject = _("Your book is on its way: %(title)s") % {"title": d.title[:120]}
            body = "\n".join(
                (
                    subject,
                    _("Courier: %(courier)s, tracking number %(no)s")
                    % {"courier": d.courier, "no": d.tracking_no},
                )
            )
            _mail(d.library, d.user, subject, body, f"home-{d.pk}-shipped")
    return d
