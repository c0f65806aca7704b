"""Events: capacity, waiting list and promotion, reminders through the outbox, check-in by signed
token, feedback, the iCalendar feed in both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from icalendar import Calendar

from lifeline.conftest import client_for
from lifeline.core.models import Notification
from lifeline.outreach.choices import RegStatus
from lifeline.outreach.logic import events
from lifeline.outreach.models import Registration, Session
from lifeline.outreach.tests.conftest import make_patron


def test_capacity_then_waiting_list_then_promotion(
    session: Session, patron_a: Any, patron_a2: Any, library_a: Any
) -> None:
    first = events.register(session, patron_a)
    second = events.register(session, patron_a2)
    third_user = make_patron("patron_a3", library_a)
    third = events.register(session, third_user)
    assert (first.status, second.status, third.status) == (
        RegStatus.REGISTERED,
        RegStatus.WAITLISTED,
        RegStatus.WAITLISTED,
    )
    session.refresh_from_db()
    assert session.registered == 1 == session.capacity
    # Registering twice gives the same row back.
    assert events.register(session, patron_a).pk == first.pk

    promoted = events.cancel(first)
    assert promoted is not None and promoted.pk == second.pk
    session.refresh_from_db()
    assert session.registered == 1
    assert Registration.objects.get(pk=second.pk).status == RegStatus.REGISTERED
    assert Registration.objects.get(pk=third.pk).status == RegStatus.WAITLISTED
    note = Notification.objects.get(kind="outreach.promoted")
    assert note.recipients == ["patron_a2@example.edu"]
    # Cancelling a cancelled registration changes nothing.
    assert events.cancel(first) is None
    # A place on the waiting list given up frees no seat.
    assert events.cancel(Registration.objects.get(pk=third.pk)) is None
    session.refresh_from_db()
    assert session.registered == 1


def test_only_patrons_of_the_library_register(
    session: Session, patron_b: Any, stranger: Any, librarian_b: Any
) -> None:
    for user in (patron_b, stranger, librarian_b):
        with pytest.raises(PermissionDenied):
            events.register(session, user)


def test_no_registration_once_begun(session: Session, patron_a: Any) -> None:
    with pytest.raises(ValidationError):
        events.register(session, patron_a, now=session.starts_at)


def test_reminders_once(session: Session, patron_a: Any, now: dt.datetime) -> None:
    events.register(session, patron_a)
    assert events.send_reminders(now=now) == 0  # two days ahead: not yet
    later = session.starts_at - dt.timedelta(hours=3)
    assert events.send_reminders(now=later) == 1
    assert events.send_reminders(now=later) == 0
    assert Notification.objects.filter(kind="outreach.reminder").count() == 1


def test_checkin_by_token(
    session: Session, patron_a: Any, reference_a: Any, librarian_a: Any, librarian_b: Any
) -> None:
    reg = events.register(session, patron_a)
    url = events.checkin_url(reg)
    # Staff of another library, staff without outreach.change, the patron: refused.
    for user in (librarian_b, librarian_a, patron_a):
        assert client_for(user).post(url).status_code == 403
    response = client_for(reference_a).post(url)
    assert response.status_code == 200
    reg.refresh_from_db()
    assert reg.checked_in_at is not None
    events.give_feedback(reg, 5, "很好")
    with pytest.raises(ValidationError):
        events.give_feedback(reg, 9, "")


def test_forged_token_refused(session: Session, patron_a: Any, reference_a: Any) -> None:
    reg = events.register(session, patron_a)
    token = events.checkin_token(reg)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client = client_for(reference_a)
    assert client.post(f"/outreach/checkin/{forged}/").status_code == 400
    assert client.get("/outreach/checkin/not-a-token/").status_code == 400
    reg.refresh_from_db()
    assert reg.checked_in_at is None


def test_feedback_needs_attendance(session: Session, patron_a: Any) -> None:
    reg = events.register(session, patron_a)
    with pytest.raises(ValidationError):
        events.give_feedback(reg, 4, "")


def test_waitlisted_cannot_check_in(session: Session, patron_a: Any, patron_a2: Any) -> None:
    events.register(session, patron_a)
    waiting = events.register(session, patron_a2)
    assert events.check_in(waiting) is False


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_calendar_feed_both_languages(client: Any, session: Session, lang: str) -> None:
    client.cookies["lifeline_lang"] = lang
    response = client.get("/outreach/nefu/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    (ev,) = cal.walk("VEVENT")
    want = (
        "云阅读：战疫书单分享会"
        if lang == "zh-hans"
        else "Cloud reading: books against the epidemic"
    )
    assert str(ev["SUMMARY"]) == want
    start = ev.decoded("DTSTART")
    assert start.utcoffset() == dt.timedelta(0)
    assert start == session.starts_at
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content


def test_calendar_of_unknown_library(client: Any, db: Any) -> None:
    assert client.get("/outreach/nope/calendar.ics").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_last_seat_under_concurrent_registrations(library_a: Any, event: Any, now: Any) -> None:
    """Eight patrons register at once for three seats: exactly three are admitted (PostgreSQL)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    session = Session.objects.create(
        event=event,
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=1),
        capacity=3,
    )
    users = [make_patron(f"seat{i}", library_a) for i in range(8)]
    barrier = threading.Barrier(len(users))

    def go(user: Any) -> None:
        try:
            barrier.wait()
            events.register(session, user)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = list(Registration.objects.filter(session=session).values_list("status", flat=True))
    assert statuses.count(RegStatus.REGISTERED) == 3
    assert statuses.count(RegStatus.WAITLISTED) == 5
    session.refresh_from_db()
    assert session.registered == 3
