"""Knowledge base figures for the service report (see `lifeline.core.counts`): how often a
suggested answer solved a patron's question before a librarian answered ("deflected", under the
reference service, as issue 11 asks), and the articles published."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.knowledge.models import Article, Deflection


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(0), tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz),
    )


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    low, high = _bounds(start, end)
    answers = Deflection.objects.filter(library=library, created_at__gte=low, created_at__lt=high)
    solved = answers.filter(solved=True).count()
    asked = answers.count()
    articles = Article.objects.filter(
        library=library, resource__isnull=True, created_at__lt=high, is_published=True
    ).count()
    return [
        Count(
            "reference",
            "deflected",
            solved,
            pgettext_lazy("enquiry", "questions"),
            _('"did this solve it?" answered yes about a suggested article'),
            _("Answered by a suggested article"),
        ),
        Count(
            "reference",
            "deflection_answers",
            asked,
            _("answers"),
            _('"did this solve it?" answers (yes and no)'),
            _("Suggestion feedback"),
        ),
        Count(
            "push",
            "knowledge_articles",
            articles,
            _("articles"),
            _("published knowledge-base articles written by staff, at the end of the period"),
            _("Knowledge-base articles"),
        ),
    ]
