"""Bookable rooms on a fixed grid of slots. A slot is held by at most one live booking: a partial
unique index (room, starts_at) WHERE status = 'booked' makes the database refuse the second of two
racing requests, which is then told the slot is taken.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.notify import notify_email
from lifeline.outreach.choices import BookingStatus
from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import Booking, Room


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
    if not may_take_part(user, room.library_id):
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
                ends_at=starts_at + dt.timedelta(minutes=room.slot_minutes),
            )
    except IntegrityError as exc:
        raise ValidationError(_("Someone has just booked this slot.")) from exc


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
