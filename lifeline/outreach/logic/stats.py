"""Statistics of outreach for staff: the period's figures, per event, per quiz, per course and
per room, as a workbook (both languages, formula-safe through `core.spreadsheets`) and as SVG
charts (`core.charts`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, Max, Q, Sum
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.outreach.choices import Audience, BookingStatus, EventKind, RegStatus
from lifeline.outreach.logic import report
from lifeline.outreach.models import Attempt, Booking, Lesson, Session


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )


def event_rows(library: Library, start: dt.date, end: dt.date) -> list[list[Any]]:
    since, until = _bounds(start, end)
    kinds = dict(EventKind.choices)
    rows = (
        Session.objects.filter(event__library=library, starts_at__gte=since, starts_at__lt=until)
        .select_related("event")
        .annotate(
            n=Count("registrations", filter=Q(registrations__status=RegStatus.REGISTERED)),
            waiting=Count("registrations", filter=Q(registrations__status=RegStatus.WAITLISTED)),
            came=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
            rating=Avg("registrations__rating"),
        )
        .order_by("starts_at")
    )
    return [
        [
            timezone.localtime(s.starts_at).strftime("%Y-%m-%d %H:%M"),
            s.event.display_title,
            str(kinds.get(s.event.kind, s.event.kind)),
            s.capacity or "",
            s.n,
            s.waiting,
            s.came,
            round(s.rating, 1) if s.rating is not None else "",
        ]
        for s in rows
    ]


def quiz_rows(library: Library, start: dt.date, end: dt.date) -> list[list[Any]]:
    since, until = _bounds(start, end)
    rows = (
        Attempt.objects.filter(
            quiz__library=library, submitted_at__gte=since, submitted_at__lt=until
        )
        .values("quiz__title", "quiz__title_en")
        .annotate(
            takers=Count("user", distinct=True),
            papers=Count("pk"),
            avg=Avg("score"),
            best=Max("score"),
            out_of=Max("max_score"),
        )
        .order_by("quiz__title")
    )
    english = _("Quiz") == "Quiz"
    return [
        [
            (r["quiz__title_en"] if english and r["quiz__title_en"] else r["quiz__title"]),
            r["takers"],
            r["papers"],
            round(r["avg"] or 0, 2),
            r["best"],
            r["out_of"],
        ]
        for r in rows
    ]


def course_rows(library: Library, start: dt.date, end: dt.date) -> list[list[Any]]:
    audiences = dict(Audience.choices)
    rows = (
        Lesson.objects.filter(course__library=library, held_on__gte=start, held_on__lte=end)
        .values("course__title", "course__term", "course__audience")
        .annotate(lessons=Count("pk"), hours=Sum("class_hours"), people=Sum("participants"))
        .order_by("course__term", "course__title")
    )
    return [
        [
            r["course__title"],
            r["course__term"],
            str(audiences.get(r["course__audience"], r["course__audience"])),
            r["lessons"],
            float(r["hours"] or 0),
            r["people"] or 0,
        ]
        for r in rows
    ]


def room_rows(library: Library, start: dt.date, end: dt.date) -> list[list[Any]]:
    since, until = _bounds(start, end)
    rows = (
        Booking.objects.filter(room__library=library, starts_at__gte=since, starts_at__lt=until)
        .values("room__name")
        .annotate(
            booked=Count("pk", filter=~Q(status=BookingStatus.CANCELLED)),
            used=Count("pk", filter=Q(checked_in_at__isnull=False)),
            missed=Count("pk", filter=Q(status=BookingStatus.NO_SHOW)),
            cancelled=Count("pk", filter=Q(status=BookingStatus.CANCELLED)),
        )
        .order_by("room__name")
    )
    return [[r["room__name"], r["booked"], r["used"], r["missed"], r["cancelled"]] for r in rows]


def workbook(library: Library, start: dt.date, end: dt.date) -> bytes:
    f = report.counts(library, start, end)
    summary = [
        [_("Events held"), f["events"]],
        [_("Event sessions"), f["sessions"]],
        [_("Registrations"), f["registrations"]],
        [_("Attended"), f["attended"]],
        [_("Quiz takers"), f["quiz_takers"]],
        [_("Contest entries"), f["contest_entries"]],
        [pgettext("contest", "Votes"), f["votes"]],
        [_("Human-library conversations"), f["conversations"]],
        [_("Class hours"), float(f["class_hours"])],
        [_("Room bookings"), f["bookings"]],
        [_("Checked in"), f["room_used"]],
        [_("No-shows"), f["no_shows"]],
    ]
    return xlsx_bytes(
        {
            _("Summary"): ([_("Figure"), _("Value")], summary),
            pgettext("outreach", "Events"): (
                [_("Starts"), pgettext("outreach", "Event"), _("Kind"), _("Capacity"),
                 _("Registered"), _("On the waiting list"), _("Attended"), _("Average rating")],
                event_rows(library, start, end),
            ),
            _("Quizzes"): (
                [_("Quiz"), _("Takers"), pgettext("quiz", "Papers"), _("Average score"),
                 _("Best score"), _("Out of")],
                quiz_rows(library, start, end),
            ),
            _("Courses"): (
                [_("Course"), _("Academic term"), _("Audience"), _("Lessons"), _("Class hours"),
                 _("Participants")],
                course_rows(library, start, end),
            ),
            _("Rooms"): (
                [_("Room"), _("Booked"), _("Checked in"), _("No-shows"), _("Cancelled")],
                room_rows(library, start, end),
            ),
        }
    )  # fmt: skip


def charts(library: Library, start: dt.date, end: dt.date) -> list[SafeString]:
    f = report.counts(library, start, end)
    out = []
    if f["class_hours_by_course"]:
        items = sorted(f["class_hours_by_course"].items(), key=lambda kv: -kv[1])
        out.append(
            bar_chart(
                [k for k, _v in items],
                [float(v) for _k, v in items],
                title=_("Class hours per course"),
            )
        )
    per_kind: dict[str, int] = {}
    for row in event_rows(library, start, end):
        per_kind[row[2]] = per_kind.get(row[2], 0) + (row[6] or row[4])
    if per_kind:
        out.append(
            bar_chart(
                list(per_kind), list(per_kind.values()), title=_("Participants per kind of event")
            )
        )
    rooms = room_rows(library, start, end)
    if rooms:
        out.append(
            bar_chart(
                [str(r[0]) for r in rooms], [r[2] for r in rooms], title=_("Room bookings used")
            )
        )
    return out
