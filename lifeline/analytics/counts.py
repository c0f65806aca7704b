"""Analytics' figures for the service report (see `lifeline.core.counts`)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from lifeline.analytics import services
from lifeline.core.counts import FULL_TEXT, Count
from lifeline.core.models import Library
from lifeline.registry.models import Resource

HOW = _("COUNTER Total_Item_Requests or access-log full-text requests, the larger")


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    usage = services.usage_between(library, start, end)
    english = (get_language() or "").startswith("en")
    names = {
        pk: (name_en or name) if english else name
        for pk, name, name_en in Resource.objects.filter(
            library=library, pk__in=list(usage)
        ).values_list("pk", "name", "name_en")
    }
    out = [
        Count(
            "digital_resources",
            "uses",
            sum(usage.values()) if usage else None,
            _("downloads"),
            HOW,
            _("Full-text downloads"),
        )
    ]
    for pk, n in sorted(usage.items(), key=lambda kv: -kv[1]):
        if pk in names and n:
            out.append(
                Count(
                    "digital_resources",
                    FULL_TEXT,
                    n,
                    _("downloads"),
                    HOW,
                    _("Full-text downloads"),
                    label=names[pk],
                )
            )
    return out
