"""Accounts' figures for the service report (see `lifeline.core.counts`): remote access through
CARSI, the seed's "one-click login to resources off campus" (3.3.2): sign-ins accepted in the
period and how many people they were."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.accounts.choices import SamlOutcome
from lifeline.accounts.models import SamlLoginEvent
from lifeline.core.counts import Count
from lifeline.core.models import Library


def counts(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    tz = timezone.get_current_timezone()
    signed_in = SamlLoginEvent.objects.filter(
        library=library,
        outcome=SamlOutcome.SIGNED_IN,
        at__gte=dt.datetime.combine(start, dt.time(0), tz),
        at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz),
    )
    return [
        Count(
            "remote_access",
            "carsi_sign_ins",
            signed_in.count(),
            _("sign-ins"),
            _("CARSI sign-ins accepted in the period"),
            _("CARSI sign-ins"),
        ),
        Count(
            "remote_access",
            "carsi_people",
            signed_in.exclude(subject="").values("subject").distinct().count(),
            pgettext_lazy("distinct", "people"),
            _("distinct identities that signed in through CARSI in the period"),
            _("People signed in through CARSI"),
        ),
    ]
