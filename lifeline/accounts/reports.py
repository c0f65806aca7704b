"""The CARSI sign-in report staff read when a patron says "I cannot sign in"."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lifeline.accounts.choices import SamlOutcome
from lifeline.accounts.models import SamlLoginEvent
from lifeline.core.charts import bar_chart, line_chart
from lifeline.core.spreadsheets import xlsx_bytes


@dataclass
class SignInReport:
    days: int
    events: QuerySet[SamlLoginEvent]
    per_day: dict[str, tuple[int, int]]
    reasons: list[tuple[str, int]]

    @property
    def signed_in(self) -> int:
        return sum(ok for ok, _refused in self.per_day.values())

    @property
    def refused(self) -> int:
        return sum(refused for _ok, refused in self.per_day.values())

    def chart(self) -> str:
        labels = list(self.per_day)
        return line_chart(
            labels,
            {
                str(_("Signed in")): [ok for ok, _r in self.per_day.values()],
                str(_("Refused")): [r for _ok, r in self.per_day.values()],
            },
            title=str(_("CARSI sign-ins per day")),
        )

    def reasons_chart(self) -> str:
        if not self.reasons:
            return ""
        return bar_chart(
            [r for r, _n in self.reasons],
            [n for _r, n in self.reasons],
            title=str(_("Why sign-ins were refused")),
        )


def sign_in_report(user: Any, days: int = 30, now: dt.datetime | None = None) -> SignInReport:
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    events = SamlLoginEvent.objects.restrict(user).filter(at__gte=since)
    per_day: dict[str, tuple[int, int]] = {}
    for offset in range(days, -1, -1):
        per_day[timezone.localtime(now - dt.timedelta(days=offset)).strftime("%m-%d")] = (0, 0)
    reasons: Counter[str] = Counter()
    for at, outcome, reason in events.values_list("at", "outcome", "reason"):
        key = timezone.localtime(at).strftime("%m-%d")
        ok, refused = per_day.get(key, (0, 0))
        if outcome == SamlOutcome.SIGNED_IN:
            per_day[key] = (ok + 1, refused)
        else:
            per_day[key] = (ok, refused + 1)
            # Group by the kind of failure, not the exact text (which carries ids and values).
            reasons[reason.split(":", 1)[0][:60]] += 1
    return SignInReport(days=days, events=events, per_day=per_day, reasons=reasons.most_common(8))


def report_xlsx(report: SignInReport) -> bytes:
    header = [
        _("time"),
        _("outcome"),
        _("IdP"),
        pgettext("identity", "subject"),
        _("reason"),
        _("address"),
    ]
    rows = (
        [
            timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            e.get_outcome_display(),
            e.idp_entity_id,
            e.subject,
            e.reason,
            e.remote_addr or "",
        ]
        for e in report.events.order_by("-at")[:50000]
    )
    return xlsx_bytes({str(_("CARSI sign-ins")): ([str(h) for h in header], rows)})
