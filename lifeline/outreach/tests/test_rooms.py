"""Rooms: the slot grid, rules, no double booking (also two threads on PostgreSQL), cancel,
building closure by an emergency."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.models import Notification
from lifeline.outreach.choices import BookingStatus
from lifeline.outreach.logic import rooms
from lifeline.outreach.models import Booking, Room
from lifeline.outreach.tests.conftest import make_patron


def _slot(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def test_grid(room: Room) -> None:
    grid = rooms.slots(room, timezone.localdate())
    assert len(grid) == 26 and grid[0].time() == dt.time(8) and grid[-1].time() == dt.time(20, 30)


def test_book_rules_and_cancel(room: Room, patron_a: Any, patron_a2: Any) -> None:
    at = _slot(1, 9)
    booking = rooms.book(room, patron_a, at)
    with pytest.raises(ValidationError):
        rooms.book(room, patron_a2, at)  # taken
    with pytest.raises(ValidationError):
        rooms.book(room, patron_a2, _slot(1, 9, 10))  # not on the grid
    with pytest.raises(ValidationError):
        rooms.book(room, patron_a2, _slot(30, 9))  # too far ahead
    with pytest.raises(ValidationError):
        rooms.book(room, patron_a2, _slot(-1, 9))  # past
    assert rooms.cancel(booking)
    assert rooms.book(room, patron_a2, at).status == BookingStatus.BOOKED


def test_max_per_week(room: Room, patron_a: Any) -> None:
    # Two days of the same week as the slot a day ahead, which the rules allow.
    base = timezone.localdate() + dt.timedelta(days=1)
    monday = base - dt.timedelta(days=base.weekday())
    start = max(monday, timezone.localdate() + dt.timedelta(days=1))
    day = (start - timezone.localdate()).days
    rooms.book(room, patron_a, _slot(day, 9))
    rooms.book(room, patron_a, _slot(day, 10))
    with pytest.raises(ValidationError):
        rooms.book(room, patron_a, _slot(day, 11))


def test_other_library_and_anonymous(
    room: Room, patron_b: Any, librarian_b: Any, client: Any
) -> None:
    for user in (patron_b, librarian_b):
        with pytest.raises(PermissionDenied):
            rooms.book(room, user, _slot(1, 9))
        response = client_for(user).post(
            f"/outreach/room/{room.pk}/book/", {"starts_at": _slot(1, 9).isoformat()}
        )
        assert response.status_code == 403
    response = client.post(
        f"/outreach/room/{room.pk}/book/", {"starts_at": _slot(1, 9).isoformat()}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Booking.objects.exists()


def test_pages(room: Room, patron_a: Any, patron_a2: Any) -> None:
    client = client_for(patron_a)
    assert client.get(f"/outreach/room/{room.pk}/?day=nonsense").status_code == 200
    assert (
        client.post(f"/outreach/room/{room.pk}/book/", {"starts_at": "garbage"}).status_code == 302
    )
    response = client.post(
        f"/outreach/room/{room.pk}/book/", {"starts_at": _slot(1, 14).isoformat()}
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    # Another patron cannot cancel it.
    assert client_for(patron_a2).post(f"/outreach/b/{booking.pk}/cancel/").status_code == 404
    assert client.get("/outreach/nefu/mine/").status_code == 200
    assert client.post(f"/outreach/b/{booking.pk}/cancel/").status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_building_closed_cancels_and_tells(room: Room, patron_a: Any, patron_a2: Any) -> None:
    rooms.book(room, patron_a, _slot(1, 9))
    rooms.book(room, patron_a2, _slot(2, 9))
    assert rooms.close_building(room.library, "疫情防控：闭馆") == 2
    assert not Booking.objects.filter(status=BookingStatus.BOOKED).exists()
    assert Notification.objects.filter(kind="outreach.booking_cancelled").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_threads_one_slot(library_a: Any) -> None:
    """Two patrons press "Book" for the same slot at once: one wins, the other is told."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    room = Room.objects.create(library=library_a, name="远程面试录制室")
    users = [make_patron(f"racer{i}", library_a) for i in range(2)]
    at = _slot(1, 10)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(user: Any) -> None:
        try:
            barrier.wait()
            rooms.book(room, user, at)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["ok", "taken"]
    assert Booking.objects.filter(room=room, status=BookingStatus.BOOKED).count() == 1


def test_emergency_declared_cancels_bookings(
    room: Room, patron_a: Any, leader_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from lifeline.emergency.services import declare, install_default_plan

    booking = rooms.book(room, patron_a, _slot(1, 9))
    plan = install_default_plan(room.library)
    with django_capture_on_commit_callbacks(execute=True):
        declare(
            room.library,
            plan,
            category="public_health",
            level=2,
            scope="全校",
            reason="疫情防控",
            user=leader_a,
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    note = Notification.objects.get(kind="outreach.booking_cancelled")
    assert note.recipients == ["patron_a@example.edu"] and "疫情防控" in note.body
    # The emergency banner memoises the open event: forget it for the tests that follow.
    from django.core.cache import cache

    from lifeline.emergency.services import forget_active

    forget_active(room.library)
    cache.clear()
