"""The service report: the seed's tables 1–3 for a library and period, from the apps' counts.

Every figure comes from `lifeline.core.counts` (each app's `counts.py`); this module never reads
another app's tables. Each figure has the same period a year earlier beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from lifeline.core import counts as contract
from lifeline.core.counts import FULL_TEXT, REQUESTED, SUPPLIED, Count
from lifeline.core.models import Library
from lifeline.reports.models import ReportNarrative

Key = tuple[str, str, str]


@dataclass
class Figure:
    title: str
    figure: int | float | None
    before: int | float | None
    unit: str
    how_counted: str
    label: str = ""


@dataclass
class ServiceRow:
    key: str
    title: str
    figures: list[Figure]  # empty: no app reports this service yet ("no data", not zero)


@dataclass
class ChannelRow:
    channel: str
    requested: int
    supplied: int
    requested_before: int | None
    supplied_before: int | None


@dataclass
class Report:
    library: Library
    start: dt.date
    end: dt.date
    before_start: dt.date
    before_end: dt.date
    table1: list[ServiceRow]
    table2: list[ChannelRow]
    table3: list[Figure]
    draft: str = ""
    narrative: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def _key(c: Count) -> Key:
    return (c.service_key, c.measure, c.label)


def _figure(c: Count, before: dict[Key, Count]) -> Figure:
    prev = before.get(_key(c))
    return Figure(
        title=str(c.title),
        figure=c.figure,
        before=prev.figure if prev else None,
        unit=str(c.unit),
        how_counted=str(c.how_counted),
        label=c.label,
    )


def build(library: Library, start: dt.date, end: dt.date) -> Report:
    now = contract.collect(library, start, end)
    b_start, b_end = contract.year_before(start), contract.year_before(end)
    before = {_key(c): c for c in contract.collect(library, b_start, b_end)}

    table1 = []
    for key, title in contract.SERVICE_TYPES:
        own = [c for c in now if c.service_key == key and not c.label]
        table1.append(ServiceRow(key, str(title), [_figure(c, before) for c in own]))

    channels: dict[str, dict[str, Any]] = {}
    for c in now:
        if c.service_key == "delivery" and c.label and c.measure in (REQUESTED, SUPPLIED):
            channels.setdefault(c.label, {})[c.measure] = c
    table2 = []
    for name, m in channels.items():
        req, sup = m.get(REQUESTED), m.get(SUPPLIED)
        prev_req = before.get(("delivery", REQUESTED, name))
        prev_sup = before.get(("delivery", SUPPLIED, name))
        table2.append(
            ChannelRow(
                name,
                int(req.figure or 0) if req else 0,
                int(sup.figure or 0) if sup else 0,
                int(prev_req.figure or 0) if prev_req else None,
                int(prev_sup.figure or 0) if prev_sup else None,
            )
        )
    table3 = sorted(
        (_figure(c, before) for c in now if c.measure == FULL_TEXT and c.label),
        key=lambda f: -(f.figure or 0),
    )
    facts = {f"{c.service_key}.{c.measure}": c.figure for c in now if not c.label}
    report = Report(library, start, end, b_start, b_end, table1, table2, table3, facts=facts)
    report.draft = draft(report)
    saved = ReportNarrative.objects.filter(
        library=library, start=start, end=end, language=_language()
    ).first()
    report.narrative = saved.text if saved else report.draft
    return report


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _n(value: int | float | None) -> str:
    return "—" if value is None else number_format(value, force_grouping=True)


def draft(report: Report) -> str:
    """A first summary drafted from the figures, in the active language, for staff to edit."""
    f = report.facts
    parts = [
        _("From %(start)s to %(end)s the library ran %(n)d service types with recorded figures.")
        % {
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "n": sum(1 for row in report.table1 if row.figures),
        }
    ]
    if f.get("delivery.requested"):
        parts.append(
            _(
                "Document delivery received %(req)s requests and supplied %(sup)s, a fill rate of "
                "%(rate)s%%, %(day)s items a day."
            )
            % {
                "req": _n(f.get("delivery.requested")),
                "sup": _n(f.get("delivery.supplied")),
                "rate": _n(f.get("delivery.fill_rate")),
                "day": _n(f.get("delivery.supplied_per_day")),
            }
        )
    dbs = [f.get(f"digital_resources.{m}") for m in ("databases_zh", "databases_foreign")]
    if any(dbs):
        parts.append(
            _("%(zh)s Chinese and %(foreign)s foreign databases were available; %(new)s were new.")
            % {
                "zh": _n(dbs[0]),
                "foreign": _n(dbs[1]),
                "new": _n(f.get("digital_resources.new_databases")),
            }
        )
    if f.get("digital_resources.uses"):
        parts.append(_("Full-text downloads: %(n)s.") % {"n": _n(f.get("digital_resources.uses"))})
    if f.get("thesis.submitted"):
        parts.append(
            _("%(sub)s theses were submitted online and %(ok)s approved.")
            % {"sub": _n(f.get("thesis.submitted")), "ok": _n(f.get("thesis.approved"))}
        )
    if f.get("availability.incidents") is not None:
        parts.append(
            _("Access incidents: %(n)s (%(h)s hours).")
            % {
                "n": _n(f.get("availability.incidents")),
                "h": _n(f.get("availability.incident_hours")),
            }
        )
    return "\n".join(parts)


def save_narrative(report: Report, text: str, user: Any) -> ReportNarrative:
    row, _created = ReportNarrative.objects.update_or_create(
        library=report.library,
        start=report.start,
        end=report.end,
        language=_language(),
        defaults={"text": text, "updated_by": user},
    )
    report.narrative = text
    return row
