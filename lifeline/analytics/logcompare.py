"""The library's own logs beside a vendor's COUNTER title report, per title and in total.

Both sides are matched to the resource's KBART titles the way COUNTER titles are
(`services.normalise_title_identifier` on ISSN / ISBN against the KBART print and online
identifiers). A log names articles, not titles, so a title is found from what the unit carries:
an ISSN or ISBN unit as such; a PII holds its journal's ISSN (S + 8 characters); a DOI with an
ISBN-13 names its book; and a platform's own journal code (CNKI's and Wanfang's leading letters
of an article id, Springer's journal number in its DOIs) is compared with the KBART title_id. A
title no KBART line holds is still lined up by its identifier on both sides.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from lifeline.analytics.choices import Metric
from lifeline.analytics.models import DailyUsage, LogItemUsage, UsageRecord
from lifeline.analytics.services import normalise_title_identifier
from lifeline.core.models import Library
from lifeline.registry.models import KbartTitle, Resource

SPRINGER_DOI = re.compile(r"^10\.1007/s(\d{5})-")
ISBN_IN_DOI = re.compile(r"(97[89]\d{10})")
LEADING_LETTERS = re.compile(r"^([A-Za-z]{3,12})\d")
PII = re.compile(r"^S(\d{7}[\dX])")


def log_title_keys(platform: str, unit_kind: str, unit: str) -> tuple[list[str], list[str]]:
    """(ISSN/ISBN identifiers, platform title codes) a log unit points to."""
    idents: list[str] = []
    codes: list[str] = []
    if unit_kind in ("issn", "isbn"):
        idents.append(unit)
    elif unit_kind == "pii":
        found = PII.match(unit)
        if found:
            idents.append(found.group(1))
    elif unit_kind == "doi":
        found = ISBN_IN_DOI.search(unit)
        if found:
            idents.append(found.group(1))
        springer = SPRINGER_DOI.match(unit)
        if springer:
            codes.append(springer.group(1))
    elif unit_kind == "proprietary" and platform in ("cnki", "wanfang"):
        found = LEADING_LETTERS.match(unit)
        if found:
            codes.append(found.group(1).lower())
    return [i for i in (normalise_title_identifier(x) for x in idents) if i], codes


@dataclass
class TitleRow:
    key: str
    title: str
    identifier: str
    counter_requests: int = 0
    counter_unique: int = 0
    log_requests: int = 0
    log_unique: int = 0

    @property
    def difference(self) -> float | None:
        return percent(self.log_requests, self.counter_requests)

    @property
    def unique_difference(self) -> float | None:
        return percent(self.log_unique, self.counter_unique)


@dataclass
class Comparison:
    resource: Resource
    month: dt.date
    rows: list[TitleRow] = field(default_factory=list)
    counter_total: int = 0
    counter_unique: int = 0
    log_total: int = 0
    log_unique: int = 0
    counter_titles: int = 0
    log_items_without_title: int = 0

    @property
    def difference(self) -> float | None:
        return percent(self.log_total, self.counter_total)

    @property
    def unique_difference(self) -> float | None:
        return percent(self.log_unique, self.counter_unique)

    def most_different(self, n: int = 10) -> list[TitleRow]:
        return sorted(
            (r for r in self.rows if r.log_requests != r.counter_requests),
            key=lambda r: (-abs(r.log_requests - r.counter_requests), r.title),
        )[:n]


def percent(log: int, counter: int) -> float | None:
    return None if not counter else round(100.0 * (log - counter) / counter, 1)


class _Titles:
    """The resource's KBART titles by normalised identifier and by title_id."""

    def __init__(self, resource: Resource) -> None:
        self.by_ident: dict[str, KbartTitle] = {}
        self.by_code: dict[str, KbartTitle] = {}
        for title in KbartTitle.objects.filter(resource=resource).order_by("pk"):
            for value in (title.online_identifier, title.print_identifier):
                ident = normalise_title_identifier(value)
                if ident:
                    self.by_ident.setdefault(ident, title)
            if title.title_id:
                self.by_code.setdefault(title.title_id.strip().lower(), title)

    def find(self, idents: list[str], codes: list[str]) -> KbartTitle | None:
        for ident in idents:
            if ident in self.by_ident:
                return self.by_ident[ident]
        for code in codes:
            if code in self.by_code:
                return self.by_code[code]
        return None


def compare(library: Library, resource: Resource, month: dt.date) -> Comparison:
    month = month.replace(day=1)
    titles = _Titles(resource)
    out = Comparison(resource=resource, month=month)
    rows: dict[str, TitleRow] = {}

    def row_for(title: KbartTitle | None, ident: str, name: str) -> TitleRow:
        key = f"k{title.pk}" if title else f"i{ident}"
        if key not in rows:
            rows[key] = TitleRow(
                key=key,
                title=title.publication_title if title else name,
                identifier=(
                    (title.online_identifier or title.print_identifier or title.title_id)
                    if title
                    else ident
                ),
            )
        return rows[key]

    # COUNTER: the title report's Total/Unique_Item_Requests of the platforms mapped to the
    # resource.
    records = (
        UsageRecord.objects.filter(
            report__library=library,
            report__report_id__startswith="TR",
            source__resource=resource,
            month=month,
            metric__in=[Metric.TOTAL_ITEM_REQUESTS, Metric.UNIQUE_ITEM_REQUESTS],
        )
        .values(
            "item_id",
            "item__title",
            "item__online_issn",
            "item__print_issn",
            "item__isbn",
            "metric",
        )
        .annotate(n=Sum("count"))
        .order_by()
    )
    seen_items: set[int] = set()
    for rec in records:
        idents = [
            i
            for i in (
                normalise_title_identifier(rec[k] or "")
                for k in ("item__online_issn", "item__print_issn", "item__isbn")
            )
            if i
        ]
        title = titles.find(idents, [])
        row = row_for(
            title, idents[0] if idents else f"#{rec['item_id']}", rec["item__title"] or ""
        )
        if rec["metric"] == Metric.TOTAL_ITEM_REQUESTS:
            row.counter_requests += rec["n"]
            out.counter_total += rec["n"]
        else:
            row.counter_unique += rec["n"]
            out.counter_unique += rec["n"]
        seen_items.add(rec["item_id"])
    out.counter_titles = len(seen_items)
    # Logs: every unit of the resource in that month, rolled up to its title.
    per_unit: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for platform, kind, unit, req, ureq in LogItemUsage.objects.filter(
        log_import__library=library, resource=resource, month=month
    ).values_list("platform", "unit_kind", "unit", "requests", "unique_requests"):
        slot = per_unit[(platform, kind, unit)]
        slot[0] += req
        slot[1] += ureq
    for (platform, kind, unit), (req, ureq) in per_unit.items():
        idents, codes = log_title_keys(platform, kind, unit)
        title = titles.find(idents, codes)
        if title is None and not idents:
            out.log_items_without_title += 1
            continue
        row = row_for(title, idents[0] if idents else "", "")
        row.log_requests += req
        row.log_unique += ureq
        out.log_unique += ureq
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    out.log_total = (
        DailyUsage.objects.filter(
            log_import__library=library, resource=resource, day__gte=month, day__lt=next_month
        ).aggregate(n=Sum("requests"))["n"]
        or 0
    )
    out.rows = sorted(
        rows.values(), key=lambda r: (-max(r.counter_requests, r.log_requests), r.title)
    )
    return out
