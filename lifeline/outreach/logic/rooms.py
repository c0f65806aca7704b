"""Bookable rooms on a fixed grid of slots. A slot is held by at most one live booking: a partial
unique index (room, starts_at) WHERE status = 'booked' makes the database refuse the second of two
racing requests, which is then told the slot is taken.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Patron
from lifeline.core.notify import notify_email
from lifeline.outreach.choices import BookingStatus
from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import Booking, Room, RoomBlock

# A booking nobody checked in to this long after its start is a no-show.
NO_SHOW_AFTER = dt.timedelta(minutes=15)
NO_SHOW_WINDOW = dt.timedelta(days=30)


def may_book(user: Any, room: Room) -> bool:
    """The room's own library's patrons; other libraries' patrons only where the room says so."""
    if may_take_part(user, room.library_id):
        return True
    return room.other_libraries and Patron.objects.filter(user=user).exists()


def blocked(room: Room, starts_at: dt.datetime, ends_at: dt.datetime) -> RoomBlock | None:
    return RoomBlock.objects.filter(room=room, starts_at__lt=ends_at, ends_at__gt=starts_at).first()


def slots(room: Room, day: dt.date) -> list[dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, room.opens, tzinfo=tz)
    end = dt.datetime.combine(day, room.closes, tzinfo=tz)
    step = dt.timedelta(minutes=room.slot_minutes)
    out = []
    while start + step <= end:
        out.append(start)
        start += step
    return out


def taken(room: Room, day: dt.date) -> set[dt.datetime]:
    grid = slots(room, day)
    if not grid:
        return set()
    return set(
        Booking.objects.filter(
            room=room, status=BookingStatus.BOOKED, starts_at__gte=grid[0], starts_at__lte=grid[-1]
        ).values_list("starts_at", flat=True)
    )


def book(
    room: Room, user: Any, starts_at: dt.datetime, *, now: dt.datetime | None = None
) -> Booking:
    now = now or timezone.now()
    if not user.is_authenticated or not may_book(user, room):
        raise PermissionDenied
    if not room.is_active:
        raise ValidationError(_("This room cannot be booked at present."))
    local = timezone.localtime(starts_at)
    if local not in slots(room, local.date()):
        raise ValidationError(_("Choose one of the room's slots."))
    if starts_at <= now:
        raise ValidationError(_("This slot has passed."))
    if starts_at > now + dt.timedelta(days=room.days_ahead):
        raise ValidationError(_("Bookings open %(days)s days ahead.") % {"days": room.days_ahead})
    ends_at = starts_at + dt.timedelta(minutes=room.slot_minutes)
    block = blocked(room, starts_at, ends_at)
    if block is not None:
        raise ValidationError(_("The room is closed then: %(reason)s") % {"reason": block.reason})
    missed = Booking.objects.filter(
        room__library_id=room.library_id,
        user=user,
        status=BookingStatus.NO_SHOW,
        starts_at__gte=now - NO_SHOW_WINDOW,
    ).count()
    if room.max_no_shows and missed >= room.max_no_shows:
        raise ValidationError(
            _("You missed %(n)s bookings in the last 30 days: booking is paused for you.")
            % {"n": missed}
        )
    week_start = dt.datetime.combine(
        local.date() - dt.timedelta(days=local.weekday()), dt.time(), tzinfo=local.tzinfo
    )
    held = Booking.objects.filter(
        room__library_id=room.library_id,
        user=user,
        status=BookingStatus.BOOKED,
        starts_at__gte=week_start,
        starts_at__lt=week_start + dt.timedelta(days=7),
    ).count()
    if held >= room.max_per_week:
        raise ValidationError(_("You may book %(n)s slots a week.") % {"n": room.max_per_week})
    try:
        with transaction.atomic():
            return Booking.objects.create(
                room=room,
                user=user,
                starts_at=starts_at,
                ends_at=ends_at,
                code=f"{secrets.randbelow(10**6):06d}",
            )
    except IntegrityError as exc:
        raise ValidationError(_("Someone has just booked this slot.")) from exc


def cancel_by_patron(booking: Booking, *, now: dt.datetime | None = None) -> bool:
    """The patron cancels: only before the room's cut-off (the slot may still go to another)."""
    now = now or timezone.now()
    if booking.starts_at - dt.timedelta(minutes=booking.room.cancel_before) <= now:
        raise ValidationError(
            _("Bookings can be cancelled up to %(n)s minutes before the slot.")
            % {"n": booking.room.cancel_before}
        )
    return cancel(booking, now=now)


def check_in(room: Room, code: str, *, now: dt.datetime | None = None) -> Booking:
    """Staff type or scan the patron's code at the room: today's booking with that code, from
    15 minutes before its start to its end."""
    now = now or timezone.now()
    code = "".join(ch for ch in code if ch.isdigit())[:8]
    booking = (
        Booking.objects.filter(
            room=room,
            code=code,
            status=BookingStatus.BOOKED,
            starts_at__lte=now + NO_SHOW_AFTER,
            ends_at__gt=now,
        )
        .select_related("user")
        .first()
        if code
        else None
    )
    if booking is None:
        raise ValidationError(_("No booking of this room now has that code."))
    Booking.objects.filter(pk=booking.pk, checked_in_at__isnull=True).update(checked_in_at=now)
    booking.refresh_from_db(fields=["checked_in_at"])
    return booking


def mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """Bookings not checked in 15 minutes after their start become no-shows (a periodic job)."""
    now = now or timezone.now()
    return Booking.objects.filter(
        status=BookingStatus.BOOKED, checked_in_at__isnull=True, starts_at__lte=now - NO_SHOW_AFTER
    ).update(status=BookingStatus.NO_SHOW)


def block(
    room: Room,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> tuple[RoomBlock, int]:
    """Close the room for maintenance; bookings inside are cancelled and their patrons told."""
    now = now or timezone.now()
    if ends_at <= starts_at:
        raise ValidationError(_("The closure must end after it starts."))
    closure = RoomBlock.objects.create(
        room=room, starts_at=starts_at, ends_at=ends_at, reason=reason
    )
    hit = Booking.objects.filter(
        room=room, status=BookingStatus.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).select_related("room__library", "user")
    told = _("The room is closed for maintenance: %(reason)s") % {"reason": reason}
    return closure, sum(cancel(b, now=now, reason=told) for b in hit)


def cancel(booking: Booking, *, now: dt.datetime | None = None, reason: str = "") -> bool:
    now = now or timezone.now()
    done = Booking.objects.filter(pk=booking.pk, status=BookingStatus.BOOKED).update(
        status=BookingStatus.CANCELLED, cancelled_at=now
    )
    booking.refresh_from_db(fields=["status", "cancelled_at"])
    if done and reason and booking.user.email:
        notify_email(
            booking.room.library,
            [booking.user.email],
            _("Your booking is cancelled: %(room)s") % {"room": booking.room.name},
            f"{booking.room.name} {timezone.localtime(booking.starts_at):%Y-%m-%d %H:%M}\n{reason}",
            kind="outreach.booking_cancelled",
            dedupe_key=f"outreach.booking_cancelled:{booking.pk}",
        )
    return bool(done)


def close_building(library: Any, reason: str, *, now: dt.datetime | None = None) -> int:
    """An emergency closes the building: cancel every future on-site booking and tell the patron."""
    now = now or timezone.now()
    count = 0
    future = Booking.objects.filter(
        room__library=library, status=BookingStatus.BOOKED, starts_at__gt=now
    ).select_related("room__library", "user")
    for booking in future:
        count += cancel(booking, now=now, reason=reason)
    return count
