"""Statistics of cloud selection: titles selected per campaign, by patrons and by librarians,
per college and CLC class, spend against budget; recommendations and home deliveries."""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.selection.choices import CLC_CLASSES, SHIP_CLOSED, Origin, RecStatus, ShipStatus
from lifeline.selection.models import Campaign, HomeDelivery, Recommendation, SelectionLine, Vote


def _orders(library: Library, year: int | None) -> Any:
    lines = SelectionLine.objects.filter(
        selection__campaign__library=library, selection__campaign__order_id=F("selection_id")
    )
    return lines.filter(selection__campaign__starts_on__year=year) if year else lines


def summary(library: Library, year: int | None = None) -> dict[str, Any]:
    campaigns = Campaign.objects.filter(library=library).order_by("starts_on")
    if year:
        campaigns = campaigns.filter(starts_on__year=year)
    lines = _orders(library, year)
    per_campaign = {
        row["selection__campaign"]: row
        for row in lines.values("selection__campaign")
        .order_by()
        .annotate(
            titles=Count("id"),
            n_copies=Sum("copies"),
            spend=Sum(F("price") * F("copies")),
            patrons=Count("id", filter=Q(origin=Origin.PATRON)),
        )
    }
    votes = {
        row["campaign"]: row
        for row in Vote.objects.filter(campaign__in=campaigns)
        .values("campaign")
        .order_by()
        .annotate(votes=Count("id"), voters=Count("user", distinct=True))
    }
    rows = []
    for c in campaigns:
        r: dict[str, Any] = per_campaign.get(c.pk, {})
        v: dict[str, Any] = dict(votes.get(c.pk, {}))
        # SQLite sums price × copies as a float: back to cents.
        spend = Decimal(str(r.get("spend") or 0)).quantize(Decimal("0.01"))
        rows.append(
            {
                "campaign": c,
                "titles": r.get("titles", 0),
                "patrons": r.get("patrons", 0),
                "staff": r.get("titles", 0) - r.get("patrons", 0),
                "copies": r.get("n_copies") or 0,
                "spend": spend,
                "budget": c.budget,
                "share": float(spend / c.budget * 100) if c.budget else 0.0,
                "votes": v.get("votes", 0),
                "voters": v.get("voters", 0),
            }
        )
    names = {letter: f"{letter} {zh}" for letter, zh, _en in CLC_CLASSES}
    by_class = [
        (names.get(row["clc_class"], row["clc_class"] or "?"), row["n"])
        for row in lines.values("clc_class").order_by("clc_class").annotate(n=Count("id"))
    ]
    by_college = [
        (row["college"] or _("(no college)"), row["n"])
        for row in lines.values("college").annotate(n=Count("id")).order_by("-n", "college")[:30]
    ]
    totals = {
        "titles": sum(r["titles"] for r in rows),
        "patrons": sum(r["patrons"] for r in rows),
        "staff": sum(r["staff"] for r in rows),
        "spend": sum((r["spend"] for r in rows), Decimal(0)),
        "budget": sum((r["budget"] for r in rows), Decimal(0)),
    }
    return {
        "rows": rows,
        "totals": totals,
        "by_class": by_class,
        "by_college": by_college,
        "recommendations": recommendation_stats(library, year),
        "deliveries": delivery_stats(library, year),
    }


def _median_days(pairs: list[tuple[Any, Any]]) -> float | None:
    days = [(b - a).total_seconds() / 86400 for a, b in pairs if a and b]
    return round(statistics.median(days), 1) if days else None


def recommendation_stats(library: Library, year: int | None) -> dict[str, Any]:
    qs = Recommendation.objects.filter(library=library)
    if year:
        qs = qs.filter(created_at__year=year)
    counts = dict(qs.values_list("status").order_by().annotate(n=Count("id")))
    arrived = list(qs.filter(status=RecStatus.ARRIVED).values_list("created_at", "closed_at"))
    return {
        "total": sum(counts.values()),
        "held": counts.get(RecStatus.HELD, 0),
        "open": counts.get(RecStatus.QUEUED, 0) + counts.get(RecStatus.ORDERED, 0),
        "arrived": counts.get(RecStatus.ARRIVED, 0),
        "rejected": counts.get(RecStatus.REJECTED, 0),
        "median_days": _median_days(arrived),
    }


def delivery_stats(library: Library, year: int | None) -> dict[str, Any]:
    qs = HomeDelivery.objects.filter(library=library)
    if year:
        qs = qs.filter(created_at__year=year)
    counts = dict(qs.values_list("status").order_by().annotate(n=Count("id")))
    received = list(qs.exclude(received_at=None).values_list("created_at", "received_at"))
    return {
        "total": sum(counts.values()),
        "open": sum(n for s, n in counts.items() if s not in SHIP_CLOSED),
        "delivered": len(received),
        "returned": counts.get(ShipStatus.RETURNED, 0),
        "median_days": _median_days(received),
    }


def charts(data: dict[str, Any]) -> dict[str, Any]:
    rows = data["rows"]
    return {
        "per_campaign": bar_chart(
            [str(r["campaign"]) for r in rows],
            [r["titles"] for r in rows],
            title=_("Titles selected per campaign"),
        ),
        "by_class": bar_chart(
            [label for label, _n in data["by_class"]],
            [n for _label, n in data["by_class"]],
            title=_("Titles selected per CLC class"),
        ),
    }


def stats_xlsx(data: dict[str, Any]) -> bytes:
    campaigns = (
        [
            _("Campaign"),
            _("Opens on"),
            _("Closes on"),
            _("Titles selected"),
            _("By patrons"),
            _("By librarians"),
            _("Copies"),
            _("Spend"),
            _("Budget"),
            _("Votes"),
            _("Patrons voting"),
        ],
        [
            [
                str(r["campaign"]),
                r["campaign"].starts_on,
                r["campaign"].ends_on,
                r["titles"],
                r["patrons"],
                r["staff"],
                r["copies"],
                float(r["spend"]),
                float(r["budget"]),
                r["votes"],
                r["voters"],
            ]
            for r in data["rows"]
        ],
    )
    return xlsx_bytes(
        {
            _("Campaigns"): campaigns,
            _("CLC classes"): ([_("CLC class"), _("Titles selected")], data["by_class"]),
            _("Colleges"): ([_("College"), _("Titles selected")], data["by_college"]),
        }
    )
