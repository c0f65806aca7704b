"""Push's figures for the service report (see `lifeline.core.counts`)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.push.logic import stats


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    announcements = stats.published_between(library, start, end)
    figures = stats.reach(announcements)
    sent = sum(f["email_sent"] + f["robot_sent"] for f in figures.values())
    return [
        Count(
            "push",
            "announcements",
            len(announcements),
            _("announcements"),
            _("announcements published in the period"),
            _("Announcements"),
        ),
        Count(
            "push",
            "messages",
            sent,
            pgettext_lazy("unit", "messages"),
            _("e-mails and group-robot posts of those announcements accepted by the server"),
            _("Messages sent"),
        ),
        Count(
            "push",
            "views",
            sum(f["views"] for f in figures.values()),
            _("page views"),
            _("views of those announcements on the patron site"),
            _("Page views"),
        ),
    ]
