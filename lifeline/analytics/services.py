"""Domain queries other apps call: usage per resource between two dates, denials, monthly series.

COUNTER reports overlap: a TR_J1 is part of the TR, and a PR counts everything on the platform.
Adding them would count one download two or three times, so per resource and month we take
the largest figure any single report type gives (the most complete report wins).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from lifeline.analytics.choices import DENIAL_METRICS, TDM_OFFSET, Metric
from lifeline.analytics.models import DailyUsage, TitleHolding, UsageItem, UsageRecord
from lifeline.core.models import Library
from lifeline.registry.io.identifiers import clean as clean_identifier
from lifeline.registry.io.identifiers import normalise_identifier
from lifeline.registry.models import KbartTitle, Resource

USE_METRICS = (Metric.TOTAL_ITEM_REQUESTS,)


def monthly_usage(
    library: Library,
    start: dt.date,
    end: dt.date,
    metrics: Iterable[int] = USE_METRICS,
    resource_ids: Iterable[int] | None = None,
) -> dict[int, dict[dt.date, int]]:
    """resource id → month → count (best report type per resource and month).

    A count belongs to the resource its platform/database is mapped to and, for title-level
    reports, to every resource whose KBART list holds the title (`TitleHolding`); a count that
    reaches one resource both ways is added once."""
    start = start.replace(day=1)
    metrics = list(metrics)
    wanted = list(resource_ids) if resource_ids is not None else None
    qs = UsageRecord.objects.filter(
        report__library=library,
        source__resource__isnull=False,
        metric__in=metrics,
        month__gte=start,
        month__lte=end,
    )
    if wanted is not None:
        qs = qs.filter(source__resource_id__in=wanted)
    per_report: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    for row in (
        qs.values("source__resource_id", "month", "report__report_id")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        per_report[(row["source__resource_id"], row["month"], row["report__report_id"])] += row["n"]
    # Title-level counts through KBART holdings. One filter() call, so that every condition
    # applies to the same record row of the multi-valued join. The library is checked on the
    # item (joined anyway), not on the resource: SQLite would otherwise scan the library's
    # resources once per record.
    held = TitleHolding.objects.filter(
        item__library=library,
        item__records__report__library=library,
        item__records__metric__in=metrics,
        item__records__month__gte=start,
        item__records__month__lte=end,
    )
    if wanted is not None:
        held = held.filter(resource_id__in=wanted)
    title_rows: Any = (
        held.values(
            "resource_id",
            "item__records__source__resource_id",
            "item__records__month",
            "item__records__report__report_id",
        )
        .annotate(n=Sum("item__records__count"))
        .order_by()
    )
    for row in title_rows:
        if row["item__records__source__resource_id"] == row["resource_id"]:
            continue  # already counted through the platform mapping above
        key = (
            row["resource_id"],
            row["item__records__month"],
            row["item__records__report__report_id"],
        )
        per_report[key] += row["n"]
    out: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for (resource_id, month, _code), n in per_report.items():
        out[resource_id][month] = max(out[resource_id].get(month, 0), n)
    return dict(out)


def library_monthly_totals(
    library: Library, start: dt.date, end: dt.date, metrics: Iterable[int] = USE_METRICS
) -> dict[dt.date, int]:
    """Month → the library's COUNTER use, every count once.

    Per-resource figures overlap by design (a title in two packages counts for both), so their
    sum overstates the library's use. Here a count is taken once if its platform is mapped or
    its title is held by any resource; per platform and month the most complete report type
    wins, as in `monthly_usage`."""
    held = TitleHolding.objects.filter(item_id=OuterRef("item_id"))
    rows = (
        UsageRecord.objects.filter(
            report__library=library,
            metric__in=list(metrics),
            month__gte=start.replace(day=1),
            month__lte=end,
        )
        .filter(Q(source__resource__isnull=False) | Q(Exists(held)))
        .values("source__platform", "month", "report__report_id")
        .annotate(n=Sum("count"))
        .order_by()
    )
    # Per platform, not per source: a DR's rows name their databases (one source each) while
    # the TR and PR of the same platform name none, so keyed by source a platform with a DR
    # and a TR counted its use twice (issue 16, part 4: 66,119 instead of 42,543 a month on
    # the official samples). Each report type's rows are added up over the platform first,
    # then the most complete type (PR ⊇ DR, TR ⊇ TR_J1 ...) gives the month's figure.
    best: dict[tuple[str, dt.date], int] = {}
    for row in rows:
        key = (row["source__platform"], row["month"])
        best[key] = max(best.get(key, 0), row["n"])
    totals: dict[dt.date, int] = defaultdict(int)
    for (_platform, month), n in best.items():
        totals[month] += n
    return dict(totals)


def log_monthly_totals(
    library: Library, start: dt.date, end: dt.date, exclude: Iterable[int] = ()
) -> dict[dt.date, int]:
    """Month → full-text requests counted in access logs (leaving out the resources in
    `exclude`, e.g. those COUNTER already counts)."""
    totals: dict[dt.date, int] = defaultdict(int)
    for day, n in (
        DailyUsage.objects.filter(log_import__library=library, day__gte=start, day__lte=end)
        .exclude(resource_id__in=list(exclude))
        .values("day")
        .annotate(n=Sum("requests"))
        .order_by()
        .values_list("day", "n")
    ):
        totals[day.replace(day=1)] += n
    return dict(totals)


def _month_share(month: dt.date, start: dt.date, end: dt.date) -> float:
    """The part of a month inside [start, end]: monthly counts are spread evenly over the days."""
    days = calendar.monthrange(month.year, month.month)[1]
    last = month.replace(day=days)
    overlap = (min(last, end) - max(month, start)).days + 1
    return max(0, overlap) / days


def counter_usage_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → COUNTER Total_Item_Requests between start and end, both included."""
    totals: dict[int, int] = {}
    for resource_id, months in monthly_usage(library, start, end).items():
        total = sum(n * _month_share(month, start, end) for month, n in months.items())
        totals[resource_id] = round(total)
    return totals


def denials_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → turnaways (No_License + Limit_Exceeded): demand the library did not meet."""
    totals: dict[int, int] = {}
    for resource_id, months in monthly_usage(library, start, end, metrics=DENIAL_METRICS).items():
        totals[resource_id] = round(sum(n * _month_share(m, start, end) for m, n in months.items()))
    return totals


def tdm_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → text and data mining (Total_Item_Requests with Access_Method=TDM), shown
    beside use and never added to it (COUNTER R5: TDM is reported apart from Regular use)."""
    metric = int(Metric.TOTAL_ITEM_REQUESTS) + TDM_OFFSET
    totals: dict[int, int] = {}
    for resource_id, months in monthly_usage(library, start, end, metrics=[metric]).items():
        totals[resource_id] = round(sum(n * _month_share(m, start, end) for m, n in months.items()))
    return totals


def log_usage(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → full-text requests counted in access logs between start and end."""
    rows = (
        DailyUsage.objects.filter(log_import__library=library, day__gte=start, day__lte=end)
        .values("resource_id")
        .annotate(n=Sum("requests"))
        .order_by()
    )
    return {r["resource_id"]: r["n"] for r in rows}


def usage_between(library: Library, start: dt.date, end: dt.date) -> dict[int, int]:
    """Resource id → total uses between start and end, both included.

    COUNTER (Total_Item_Requests) and access logs (full-text requests) measure the same thing
    from two sides; where both exist the larger is taken rather than the sum, so one download
    is never counted twice.
    """
    totals = counter_usage_between(library, start, end)
    for resource_id, n in log_usage(library, start, end).items():
        totals[resource_id] = max(totals.get(resource_id, 0), n)
    return totals


def off_campus_share(library: Library, start: dt.date, end: dt.date) -> float | None:
    rows = DailyUsage.objects.filter(log_import__library=library, day__gte=start, day__lte=end)
    total = rows.aggregate(n=Sum("requests"))["n"] or 0
    off = rows.filter(on_campus=False).aggregate(n=Sum("requests"))["n"] or 0
    return off / total if total else None


# --- usage-drop signal -----------------------------------------------------------------------

BASELINE_DAYS = 28
MIN_BASELINE = 20.0  # mean daily uses below this are too small to judge a drop
DROP_RATIO = 0.2  # a day below a fifth of the usual is "far below"


def usage_drops(library: Library, day: dt.date) -> list[dict[str, Any]]:
    """Resources whose use on `day` fell far below their mean of the previous 28 days.

    Only days for which logs were imported are judged: no log is not the same as no use."""
    qs = DailyUsage.objects.filter(log_import__library=library)
    if not qs.filter(day=day).exists():
        return []
    start = day - dt.timedelta(days=BASELINE_DAYS)
    past = (
        qs.filter(day__gte=start, day__lt=day)
        .values("resource_id")
        .annotate(n=Sum(F("requests") + F("investigations")), days=Count("day", distinct=True))
        .order_by()
    )
    today = dict(
        qs.filter(day=day)
        .values("resource_id")
        .annotate(n=Sum(F("requests") + F("investigations")))
        .order_by()
        .values_list("resource_id", "n")
    )
    drops = []
    for row in past:
        if row["days"] < BASELINE_DAYS // 2:
            continue  # not enough history
        baseline = row["n"] / row["days"]
        observed = today.get(row["resource_id"], 0)
        if baseline >= MIN_BASELINE and observed < DROP_RATIO * baseline:
            drops.append(
                {
                    "resource_id": row["resource_id"],
                    "day": day.isoformat(),
                    "observed": observed,
                    "baseline": round(baseline, 1),
                    "baseline_days": row["days"],
                }
            )
    return drops


def probes_say_up(resource: Resource) -> bool:
    try:
        from lifeline.health.services import best_state, current_states
    except (ImportError, AttributeError):
        return False
    states = list(current_states(list(resource.routes.values_list("pk", flat=True))).values())
    return best_state(states) == "up"


def signal_usage_drops(day: dt.date | None = None) -> list[dict[str, Any]]:
    """The daily job: for each drop while probes say the resource is up, a suspected fault."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    day = day or timezone.localdate() - dt.timedelta(days=1)
    from lifeline.health.services import raise_suspected_fault

    raised = []
    for library in Library.objects.all():
        for drop in usage_drops(library, day):
            resource = Resource.objects.get(pk=drop["resource_id"])
            if not probes_say_up(resource):
                continue  # the health checks already see it down: their incident covers it
            reason = _(
                "Use of %(resource)s fell to %(observed)s on %(day)s against about %(baseline)s a "
                "day before, while the probes say it is up."
            ) % {
                "resource": resource,
                "observed": drop["observed"],
                "day": drop["day"],
                "baseline": drop["baseline"],
            }
            raise_suspected_fault(resource, reason=reason, evidence=drop)
            raised.append(drop)
    return raised


# --- titles matched to resources through KBART ---------------------------------------------

# Deleting or inserting holdings in chunks keeps each statement under SQLite's variable limit.
CHUNK = 5000


def normalise_title_identifier(value: str) -> str:
    """ISSN as NNNN-NNNX, ISBN as ISBN-13 (as the KBART importer stores them). A value whose
    check digit fails is compared as written (spaces and dashes removed, ISSN re-dashed):
    vendors' reports and KBART lists repeat the same wrong digit, and it still names the title."""
    if not value:
        return ""
    normalised, _problem = normalise_identifier(value)
    if normalised:
        return normalised
    raw = clean_identifier(value)
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


@dataclass
class TitleMatchSummary:
    """What `match_titles` did: titles with an ISSN/ISBN, how many a KBART list holds."""

    items: int
    matched: int
    holdings: int
    added: int
    removed: int

    @property
    def rate(self) -> float | None:
        return self.matched / self.items if self.items else None


def match_titles(library: Library) -> TitleMatchSummary:
    """Match every COUNTER title of the library to the resources whose KBART lists hold it.

    A title matches a KBART line when any of its identifiers (Online_ISSN, Print_ISSN, ISBN)
    equals the line's print or online identifier, both normalised. The holdings are brought to
    exactly what the current KBART lists and titles say (stale ones removed), so the function
    is safe to run after every import, after a KBART list changes, or by hand."""
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for kbart_id, resource_id, printed, online in (
        KbartTitle.objects.filter(resource__library=library)
        .order_by("pk")
        .values_list("pk", "resource_id", "print_identifier", "online_identifier")
    ):
        for ident in dict.fromkeys(
            (normalise_title_identifier(online), normalise_title_identifier(printed))
        ):
            if ident:
                index[ident].append((resource_id, kbart_id))
    wanted: dict[tuple[int, int], tuple[int, str]] = {}
    items = matched = 0
    for item_id, online, printed, isbn in (
        UsageItem.objects.filter(library=library)
        .exclude(online_issn="", print_issn="", isbn="")
        .values_list("pk", "online_issn", "print_issn", "isbn")
    ):
        idents = [
            i for i in dict.fromkeys(map(normalise_title_identifier, (online, printed, isbn))) if i
        ]
        if not idents:
            continue
        items += 1
        hit = False
        for ident in idents:
            for resource_id, kbart_id in index.get(ident, ()):
                wanted.setdefault((item_id, resource_id), (kbart_id, ident))
                hit = True
        matched += hit
    existing = {
        (item_id, resource_id): (pk, kbart_id, ident)
        for pk, item_id, resource_id, kbart_id, ident in TitleHolding.objects.filter(
            item__library=library
        ).values_list("pk", "item_id", "resource_id", "kbart_title_id", "identifier")
    }
    stale = [pk for key, (pk, k, i) in existing.items() if wanted.get(key) != (k, i)]
    kept = {key for key, (_pk, k, i) in existing.items() if wanted.get(key) == (k, i)}
    new = [
        (item_id, resource_id, k, i)
        for (item_id, resource_id), (k, i) in wanted.items()
        if (item_id, resource_id) not in kept
    ]
    table = TitleHolding._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(0, len(stale), CHUNK):
            TitleHolding.objects.filter(pk__in=stale[n : n + CHUNK]).delete()
        # Plain executemany: a first match inserts ~10^5 rows, and a model instance for each
        # (bulk_create) made the whole match ~3.5x slower (8.0 s against 2.3 s CPU for
        # 166,671 holdings on SQLite).
        for n in range(0, len(new), CHUNK):
            cursor.executemany(
                f'INSERT INTO "{table}" (item_id, resource_id, kbart_title_id, identifier) '  # noqa: S608 - our table name
                "VALUES (%s, %s, %s, %s)",
                new[n : n + CHUNK],
            )
    return TitleMatchSummary(
        items=items, matched=matched, holdings=len(wanted), added=len(new), removed=len(stale)
    )


def title_match_rate(library: Library) -> dict[str, Any]:
    """The match rate a librarian reads: titles with an ISSN/ISBN held by a KBART list, by
    number and by use (Total_Item_Requests over all imported months)."""
    with_ids = UsageItem.objects.filter(library=library).exclude(
        online_issn="", print_issn="", isbn=""
    )
    held = Exists(TitleHolding.objects.filter(item_id=OuterRef("pk")))
    items = with_ids.count()
    matched = with_ids.filter(held).count()
    use = Sum("count", filter=Q(metric=Metric.TOTAL_ITEM_REQUESTS))
    records = UsageRecord.objects.filter(report__library=library, item__in=with_ids.values("pk"))
    total_use = records.aggregate(n=use)["n"] or 0
    matched_use = (
        records.filter(Exists(TitleHolding.objects.filter(item_id=OuterRef("item_id")))).aggregate(
            n=use
        )["n"]
        or 0
    )
    return {
        "items": items,
        "matched": matched,
        "rate": matched / items if items else None,
        "use": total_use,
        "matched_use": matched_use,
        "use_rate": matched_use / total_use if total_use else None,
        "holdings": TitleHolding.objects.filter(item__library=library).count(),
    }


def unmatched_titles(library: Library, limit: int | None = 200) -> list[dict[str, Any]]:
    """Titles with an ISSN/ISBN that no KBART list holds, most used first: the list a librarian
    works through (add the title to a package's KBART list, or accept it is not held)."""
    qs = (
        UsageItem.objects.filter(library=library)
        .exclude(online_issn="", print_issn="", isbn="")
        .exclude(Exists(TitleHolding.objects.filter(item_id=OuterRef("pk"))))
        .annotate(
            uses=Sum("records__count", filter=Q(records__metric=Metric.TOTAL_ITEM_REQUESTS)),
            denials=Sum("records__count", filter=Q(records__metric__in=DENIAL_METRICS)),
        )
        .order_by(F("uses").desc(nulls_last=True), "title", "pk")
        .values("pk", "title", "online_issn", "print_issn", "isbn", "doi", "uses", "denials")
    )
    rows = [dict(row) for row in (qs if limit is None else qs[:limit])]
    for row in rows:
        row["uses"] = row["uses"] or 0
        row["denials"] = row["denials"] or 0
    return rows


def title_use(
    library: Library, start: dt.date, end: dt.date, metrics: Iterable[int] = USE_METRICS
) -> dict[int, int]:
    """KBART title id → COUNTER use of the title it is matched to, between start and end.

    Per title and month the most complete report type wins (a TR_J1 row repeats the TR).
    Summed per COUNTER item first and spread to its KBART lines in Python: grouping the
    records by KBART line in SQL would multiply them by the number of packages holding them."""
    held = Exists(TitleHolding.objects.filter(item_id=OuterRef("item_id")))
    per_report: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    for item_id, month, code, n in (
        UsageRecord.objects.filter(
            report__library=library,
            metric__in=list(metrics),
            month__gte=start.replace(day=1),
            month__lte=end,
        )
        .filter(held)
        .values("item_id", "month", "report__report_id")
        .annotate(n=Sum("count"))
        .order_by()
        .values_list("item_id", "month", "report__report_id", "n")
    ):
        per_report[(item_id, month, code)] += n
    best: dict[tuple[int, dt.date], int] = {}
    for (item_id, month, _code), n in per_report.items():
        best[(item_id, month)] = max(best.get((item_id, month), 0), n)
    per_item: dict[int, float] = defaultdict(float)
    for (item_id, month), n in best.items():
        per_item[item_id] += n * _month_share(month, start, end)
    out: dict[int, float] = defaultdict(float)
    for item_id, kbart_id in TitleHolding.objects.filter(item__library=library).values_list(
        "item_id", "kbart_title_id"
    ):
        if item_id in per_item:
            out[kbart_id] += per_item[item_id]
    return {k: round(v) for k, v in out.items()}
