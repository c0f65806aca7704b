"""Delivery's figures for the service report (see `lifeline.core.counts`)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from lifeline.core.counts import FULL_TEXT, REQUESTED, SUPPLIED, Count
from lifeline.core.models import Library
from lifeline.delivery.logic import stats

ITEMS = _("items")


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    rows = stats.cube(library, start, end)
    s = stats.summary(library, start, end, rows=rows)
    days = (end - start).days + 1
    out = [
        Count(
            "delivery",
            REQUESTED,
            s["requested"],
            ITEMS,
            _("requests received, not counting those answered from holdings"),
            _("Requested"),
        ),
        Count("delivery", SUPPLIED, s["supplied"], ITEMS, _("requests delivered"), _("Supplied")),
        Count(
            "delivery",
            "fill_rate",
            s["fill_rate"],
            "%",
            _("supplied / requested"),
            _("Fill rate"),
        ),
        Count(
            "delivery",
            "supplied_per_day",
            round(s["supplied"] / days, 1) if days > 0 else None,
            _("items per day"),
            _("supplied / days in the period"),
            _("Supplied per day"),
        ),
    ]
    for ch in stats.per_channel(library, start, end, rows=rows):
        if not ch["channel"]:
            continue
        for measure, title in ((REQUESTED, _("Requested")), (SUPPLIED, _("Supplied"))):
            out.append(
                Count(
                    "delivery",
                    measure,
                    ch[measure],
                    ITEMS,
                    _("per service channel"),
                    title,
                    label=ch["channel"],
                )
            )
    for sup in stats.per_supplier(library, start, end, rows=rows):
        out.append(
            Count(
                "delivery",
                FULL_TEXT,
                sup["supplied"],
                ITEMS,
                _("documents supplied through this supplier"),
                _("Full texts supplied"),
                label=sup["supplier__name"],
            )
        )
    return out
