"""Outreach's figures for the service report (see `lifeline.core.counts`): the seed's table 1
rows "reading promotion" (more than ten events online), "information literacy" (科技信息检索 and
专利申请实务, 288 class hours; 65 hours of freshman training; four trainings) and the interview
recording room. The figures come from `logic.report.counts`, the same the outreach report shows.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.outreach.choices import Audience
from lifeline.outreach.logic import report


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    f = report.counts(library, start, end)
    by_audience = f["class_hours_by_audience"]
    freshmen = by_audience.get(Audience.FRESHMEN, 0)
    # The seed counts its credit courses (288 class hours) apart from freshman training (65):
    # the course figure is every course's hours but those aimed at freshmen.
    course_hours = f["class_hours"] - freshmen
    return [
        Count(
            "reading_promotion",
            "events",
            f["promotion_events"],
            pgettext_lazy("outreach", "events"),
            _(
                "reading promotion events, quizzes, contests and human-library events held in the "
                "period (at least one session in it)"
            ),
            _("Events held"),
        ),
        Count(
            "reading_promotion",
            "participants",
            f["promotion_participants"],
            _("participants"),
            _(
                "seats taken at those events (checked in where attendance was taken), quiz takers "
                "and contest entrants"
            ),
            _("Participants"),
        ),
        Count(
            "literacy",
            "class_hours",
            float(course_hours),
            _("class hours"),
            _("class hours of literacy courses held in the period, freshman training apart"),
            _("Course class hours"),
        ),
        Count(
            "literacy",
            "freshman_hours",
            float(freshmen),
            _("class hours"),
            _("class hours of courses for freshmen held in the period"),
            _("Freshman training"),
        ),
        Count(
            "literacy",
            "trainings",
            f["trainings"],
            _("trainings"),
            _("training events held in the period (databases, exam preparation)"),
            _("Trainings"),
        ),
        Count(
            "rooms",
            "bookings",
            f["bookings"],
            _("bookings"),
            _("room slots booked for the period and not cancelled"),
            _("Room bookings"),
        ),
        Count(
            "rooms",
            "used",
            f["room_used"],
            _("bookings"),
            _("bookings whose patron checked in"),
            _("Checked in"),
        ),
        Count(
            "rooms",
            "no_shows",
            f["no_shows"],
            _("bookings"),
            _("bookings nobody came to"),
            _("No-shows"),
        ),
    ]
