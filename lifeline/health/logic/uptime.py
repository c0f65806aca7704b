"""Uptime from state changes: a sweep over Flip rows, no per-probe history needed.

A resource is as reachable as its best route (a patron uses whichever route works), so one
sweep over the flips of all its routes gives the resource's uptime. Degraded counts as up
(the patron gets in, slowly); time before the first probe counts as unknown, not as up.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from lifeline.health.choices import STATE_RANK, HealthState
from lifeline.health.models import Flip
from lifeline.registry.models import AccessRoute

Segment = tuple[dt.datetime, dt.datetime, str]
PERIODS = ("24h", "7d", "30d", "term")


def term_start(now: dt.datetime) -> dt.datetime:
    """Start of the current term: 1 September (autumn) or 20 February (spring), local time."""
    local = timezone.localtime(now)
    if local.month >= 9:
        day = dt.date(local.year, 9, 1)
    elif (local.month, local.day) >= (2, 20):
        day = dt.date(local.year, 2, 20)
    else:
        day = dt.date(local.year - 1, 9, 1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def period_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    return {
        "24h": now - dt.timedelta(hours=24),
        "7d": now - dt.timedelta(days=7),
        "30d": now - dt.timedelta(days=30),
        "term": term_start(now),
    }


def _best(states: Iterable[str]) -> str:
    return min(states, key=lambda s: STATE_RANK[HealthState(s)], default=HealthState.UNKNOWN)


def timelines(
    groups: dict[int, list[int]], start: dt.datetime, end: dt.datetime
) -> dict[int, list[Segment]]:
    """Per group (resource id -> its route ids), the segments of its best state (2 queries)."""
    route_ids = sorted({r for ids in groups.values() for r in ids})
    before = (
        Flip.objects.filter(route=OuterRef("pk"), at__lt=start)
        .order_by("-at", "-id")
        .values("new")[:1]
    )
    initial = dict(
        AccessRoute.objects.filter(pk__in=route_ids)
        .annotate(s=Subquery(before))
        .values_list("pk", "s")
    )
    flips_by_route: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for route_id, at, new in (
        Flip.objects.filter(route_id__in=route_ids, at__gte=start, at__lt=end)
        .order_by("at", "id")
        .values_list("route_id", "at", "new")
    ):
        flips_by_route[route_id].append((at, new))
    out: dict[int, list[Segment]] = {}
    for key, ids in groups.items():
        state = {r: initial.get(r) or HealthState.UNKNOWN for r in ids}
        events = sorted((at, r, new) for r in ids for at, new in flips_by_route.get(r, []))
        segments: list[Segment] = []
        cursor = start
        for at, route_id, new in events:
            if at > cursor:
                segments.append((cursor, at, _best(state.values())))
                cursor = at
            state[route_id] = new
        if end > cursor:
            segments.append((cursor, end, _best(state.values())))
        out[key] = segments
    return out


def fraction(segments: list[Segment], start: dt.datetime, end: dt.datetime) -> float | None:
    known = up = 0.0
    for a, b, state in segments:
        lo, hi = max(a, start), min(b, end)
        if hi <= lo or state == HealthState.UNKNOWN:
            continue
        seconds = (hi - lo).total_seconds()
        known += seconds
        if state in (HealthState.UP, HealthState.DEGRADED):
            up += seconds
    return up / known if known else None


def uptime(route_ids: list[int], start: dt.datetime, end: dt.datetime) -> float | None:
    return fraction(timelines({0: route_ids}, start, end)[0], start, end)


def uptime_table(
    groups: dict[int, list[int]], now: dt.datetime | None = None
) -> dict[int, dict[str, float | None]]:
    """Uptime for 24 h, 7 d, 30 d and the term, per group, from one sweep."""
    now = now or timezone.now()
    starts = period_starts(now)
    earliest = min(starts.values())
    lines = timelines(groups, earliest, now)
    return {
        key: {p: fraction(segs, starts[p], now) for p in PERIODS} for key, segs in lines.items()
    }


def daily(
    groups: dict[int, list[int]], now: dt.datetime | None = None, days: int = 30
) -> dict[int, list[tuple[str, float | None]]]:
    """Per group, one (label, uptime) per local day, oldest first: the status page's bars."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [today - dt.timedelta(days=days - 1 - i) for i in range(days)] + [now]
    lines = timelines(groups, edges[0], now)
    return {
        key: [(f"{edges[i]:%Y-%m-%d}", fraction(segs, edges[i], edges[i + 1])) for i in range(days)]
        for key, segs in lines.items()
    }


def overview(
    groups: dict[int, list[int]],
    now: dt.datetime | None = None,
    days: int = 30,
) -> tuple[dict[int, dict[str, float | None]], dict[int, list[tuple[str, float | None]]]]:
    """The uptime table and the daily bars from one sweep (two queries), for the status page."""
    now = now or timezone.now()
    starts = period_starts(now)
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [today - dt.timedelta(days=days - 1 - i) for i in range(days)] + [now]
    lines = timelines(groups, min([*starts.values(), edges[0]]), now)
    table = {
        key: {p: fraction(segs, starts[p], now) for p in PERIODS} for key, segs in lines.items()
    }
    bars = {
        key: [(f"{edges[i]:%Y-%m-%d}", fraction(segs, edges[i], edges[i + 1])) for i in range(days)]
        for key, segs in lines.items()
    }
    return table, bars
