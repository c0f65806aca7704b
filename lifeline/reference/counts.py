"""The desk's figures for the service report (see `lifeline.core.counts`): service "reference"."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import Count
from lifeline.core.models import Library
from lifeline.reference.logic.stats import report

QUESTIONS = _("questions")
MINUTES = _("service minutes")


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    r = report(library, start, end)
    out = [
        Count(
            "reference",
            "questions",
            r["total"],
            QUESTIONS,
            _("questions asked on every channel"),
            _("Questions"),
        ),
        Count(
            "reference",
            "first_response_median",
            r["first_response"]["median"],
            MINUTES,
            _("median time to the first answer, counting service hours only"),
            _("First answer, median"),
        ),
        Count(
            "reference",
            "resolution_median",
            r["resolution"]["median"],
            MINUTES,
            _("median time to the answer, counting service hours only"),
            _("Resolution, median"),
        ),
        Count(
            "reference",
            "deflection_rate",
            r["deflection_rate"],
            "%",
            _("questions closed by a suggested article / questions"),
            _("Deflection rate"),
        ),
        Count(
            "reference",
            "rating",
            r["ratings"]["mean"],
            _("of 5"),
            _("mean of the patrons' ratings"),
            _("Mean rating"),
        ),
    ]
    for label, n in r["per_channel"]:
        out.append(
            Count(
                "reference",
                "questions",
                n,
                QUESTIONS,
                _("per channel"),
                _("Questions"),
                label=str(label),
            )
        )
    return out
