"""Counts of outreach for the library's service report, for any period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.outreach.choices import BookingStatus, EventKind, RegStatus
from lifeline.outreach.models import (
    Attempt,
    Booking,
    Conversation,
    Entry,
    Event,
    Lesson,
    Registration,
    Session,
    Vote,
)


def counts(library: Library, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Events held, participants (attended, or registered when attendance was not taken),
    quiz takers, class hours (total and per audience and course), room bookings, in [start, end]."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    sessions = Session.objects.filter(
        event__library=library, starts_at__gte=since, starts_at__lt=until
    )
    regs = Registration.objects.filter(session__in=sessions, status=RegStatus.REGISTERED)
    lessons = Lesson.objects.filter(course__library=library, held_on__gte=start, held_on__lte=end)
    hours = lessons.aggregate(h=Sum("class_hours"))["h"] or Decimal(0)
    by_course = {
        row["course__title"]: row["h"]
        for row in lessons.values("course__title").annotate(h=Sum("class_hours"))
    }
    by_term = {
        row["course__term"] or "—": row["h"]
        for row in lessons.values("course__term").annotate(h=Sum("class_hours"))
    }
    by_audience = {
        row["course__audience"]: row["h"]
        for row in lessons.values("course__audience").annotate(h=Sum("class_hours"))
    }
    quiz_takers = (
        Attempt.objects.filter(
            quiz__library=library, submitted_at__gte=since, submitted_at__lt=until
        )
        .values("user")
        .distinct()
        .count()
    )
    held = Event.objects.filter(pk__in=sessions.values("event"))
    promotion = sessions.exclude(event__kind=EventKind.TRAINING)
    # Per session: those checked in where attendance was taken, else those registered.
    seats = 0
    for row in promotion.annotate(
        n=Count("registrations", filter=Q(registrations__status=RegStatus.REGISTERED)),
        came=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
    ).values("n", "came"):
        seats += row["came"] or row["n"]
    entrants = Entry.objects.filter(
        contest__library=library, created_at__gte=since, created_at__lt=until
    )
    rooms = Booking.objects.filter(room__library=library, starts_at__gte=since, starts_at__lt=until)
    booked = rooms.filter(status__in=(BookingStatus.BOOKED, BookingStatus.NO_SHOW))
    return {
        "events": held.count(),
        "promotion_events": held.exclude(kind=EventKind.TRAINING).count(),
        "promotion_participants": seats + quiz_takers + entrants.count(),
        "trainings": held.filter(kind=EventKind.TRAINING).count(),
        "contest_entries": entrants.count(),
        "votes": Vote.objects.filter(
            contest__library=library, created_at__gte=since, created_at__lt=until
        ).count(),
        "conversations": Conversation.objects.filter(
            book__library=library, reader__isnull=False, starts_at__gte=since, starts_at__lt=until
        ).count(),
        "room_used": booked.filter(checked_in_at__isnull=False).count(),
        "no_shows": booked.filter(status=BookingStatus.NO_SHOW).count(),
        "sessions": sessions.count(),
        "registrations": regs.count(),
        "attended": regs.filter(checked_in_at__isnull=False).count(),
        "quiz_takers": quiz_takers,
        "courses": lessons.values("course").distinct().count(),
        "class_hours": hours,
        "class_hours_by_course": by_course,
        "class_hours_by_audience": by_audience,
        "class_hours_by_term": by_term,
        "course_participants": lessons.aggregate(n=Sum("participants"))["n"] or 0,
        "bookings": booked.count(),
        "feedback": regs.aggregate(n=Count("pk", filter=Q(rating__isnull=False)))["n"],
    }
