"""Counts of outreach for the library's service report, for any period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.outreach.choices import BookingStatus, RegStatus
from lifeline.outreach.models import Attempt, Booking, Event, Lesson, Registration, Session


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
    return {
        "events": Event.objects.filter(pk__in=sessions.values("event")).count(),
        "sessions": sessions.count(),
        "registrations": regs.count(),
        "attended": regs.filter(checked_in_at__isnull=False).count(),
        "quiz_takers": quiz_takers,
        "courses": lessons.values("course").distinct().count(),
        "class_hours": hours,
        "class_hours_by_course": by_course,
        "class_hours_by_audience": by_audience,
        "course_participants": lessons.aggregate(n=Sum("participants"))["n"] or 0,
        "bookings": Booking.objects.filter(
            room__library=library,
            status=BookingStatus.BOOKED,
            starts_at__gte=since,
            starts_at__lt=until,
        ).count(),
        "feedback": regs.aggregate(n=Count("pk", filter=Q(rating__isnull=False)))["n"],
    }
