"""Rooms at the desk: check-in by the patron's code, no-shows counted and pausing booking, the
cancellation cut-off, closure for maintenance, and library B's patrons only where the room says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.models import Notification
from lifeline.outreach.choices import BookingStatus
from lifeline.outreach.logic import rooms
from lifeline.outreach.models import Booking, Room


def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def test_check_in_and_no_shows(room: Room, patron_a: Any) -> None:
    start = at(1, 10)
    before = start - dt.timedelta(days=1)
    booking = rooms.book(room, patron_a, start, now=before)
    assert len(booking.code) == 6 and booking.code.isdigit()
    with pytest.raises(ValidationError):  # too early to check in
        rooms.check_in(room, booking.code, now=start - dt.timedelta(hours=1))
    wrong = "000000" if booking.code != "000000" else "111111"
    with pytest.raises(ValidationError):
        rooms.check_in(room, wrong, now=start)
    assert rooms.check_in(room, f" {booking.code} ", now=start).checked_in_at == start
    assert rooms.mark_no_shows(now=start + dt.timedelta(hours=1)) == 0
    # Three bookings missed: the fourth is refused (the room allows three in 30 days).
    room.max_per_week = 10
    room.save()
    for hour in (11, 12, 13):
        rooms.book(room, patron_a, at(1, hour), now=before)
    assert rooms.mark_no_shows(now=at(1, 14)) == 3
    assert Booking.objects.filter(status=BookingStatus.NO_SHOW).count() == 3
    with pytest.raises(ValidationError) as refused:
        rooms.book(room, patron_a, at(2, 9), now=at(1, 15))
    assert "3" in refused.value.messages[0]


def test_cut_off(room: Room, patron_a: Any) -> None:
    booking = rooms.book(room, patron_a, at(1, 10), now=at(0, 0))
    with pytest.raises(ValidationError):
        rooms.cancel_by_patron(booking, now=at(1, 9, 30))  # 30 min before: past the 60 min cut-off
    assert rooms.cancel_by_patron(booking, now=at(1, 8)) is True


def test_closure_cancels_and_tells(room: Room, patron_a: Any, patron_a2: Any) -> None:
    inside = rooms.book(room, patron_a, at(2, 10), now=at(0, 0))
    outside = rooms.book(room, patron_a2, at(2, 15), now=at(0, 0))
    _closure, n = rooms.block(room, at(2, 9), at(2, 12), "更换灯光", now=at(0, 0))
    assert n == 1
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.status == BookingStatus.CANCELLED and outside.status == BookingStatus.BOOKED
    told = Notification.objects.get(kind="outreach.booking_cancelled")
    assert told.recipients == ["patron_a@example.edu"] and "更换灯光" in told.body
    with pytest.raises(ValidationError):
        rooms.book(room, patron_a2, at(2, 11), now=at(0, 0))
    with pytest.raises(ValidationError):
        rooms.block(room, at(3, 12), at(3, 9), "backwards")


def test_other_libraries_rule(room: Room, patron_b: Any, librarian_b: Any) -> None:
    with pytest.raises(PermissionDenied):
        rooms.book(room, patron_b, at(1, 9), now=at(0, 0))
    room.other_libraries = True
    room.save()
    assert rooms.book(room, patron_b, at(1, 9), now=at(0, 0)).user == patron_b
    with pytest.raises(PermissionDenied):  # staff of B are not patrons anywhere
        rooms.book(room, librarian_b, at(1, 10), now=at(0, 0))


def test_desk_page(room: Room, patron_a: Any, reference_a: Any, librarian_b: Any) -> None:
    now = timezone.now()
    slot = rooms.slots(room, timezone.localdate())
    current = [s for s in slot if s <= now < s + dt.timedelta(minutes=30)]
    url = f"/outreach/nefu/room/{room.pk}/desk/"
    staff = client_for(reference_a)
    assert staff.get(url).status_code == 200
    if current:  # inside opening hours: check a booking in by its code
        booking = Booking.objects.create(
            room=room, user=patron_a, starts_at=current[0],
            ends_at=current[0] + dt.timedelta(minutes=30), code="123456",
        )  # fmt: skip
        assert staff.post(url, {"code": "123456"}).status_code == 302
        booking.refresh_from_db()
        assert booking.checked_in_at is not None
    assert staff.post(url, {"code": "<script>"}).status_code == 400
    response = staff.post(
        url,
        {"action": "block", "starts_at": "2099-01-01T09:00", "ends_at": "2099-01-01T12:00",
         "reason": "<b>维修</b>"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "&lt;b&gt;维修&lt;/b&gt;" in staff.get(url).content.decode()
    assert client_for(librarian_b).post(url, {"code": "123456"}).status_code == 403
    assert client_for(patron_a).get(url).status_code == 403
    assert client_for(reference_a).get("/outreach/nefu/room/999999/desk/").status_code == 404
