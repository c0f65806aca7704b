"""Value of resources: cost per use in CNY at dated exchange rates, use in an emergency against
the same period a year earlier, and unmet demand (COUNTER denials, document-delivery requests
for titles the library does not hold)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from lifeline.analytics.models import ExchangeRate
from lifeline.analytics.services import denials_between, usage_between
from lifeline.core.models import Library
from lifeline.registry.models import Resource

BASE = "CNY"


class MissingRate(LookupError):
    pass


class Rates:
    """The library's rate table in memory: `to_cny(amount, currency, on)`."""

    def __init__(self, library: Library) -> None:
        self.table: dict[str, list[tuple[dt.date, Decimal]]] = {}
        for rate in ExchangeRate.objects.filter(library=library).order_by("currency", "valid_from"):
            self.table.setdefault(rate.currency, []).append((rate.valid_from, rate.cny_per_unit))

    def rate(self, currency: str, on: dt.date) -> Decimal:
        if currency == BASE:
            return Decimal(1)
        found = [r for day, r in self.table.get(currency, []) if day <= on]
        if not found:
            raise MissingRate(
                _("No %(currency)s exchange rate on or before %(day)s.")
                % {"currency": currency, "day": on}
            )
        return found[-1]

    def to_cny(self, amount: Decimal, currency: str, on: dt.date) -> Decimal:
        return (amount * self.rate(currency, on)).quantize(Decimal("0.01"))


@dataclass
class ValueRow:
    resource: Resource
    price_cny: Decimal | None
    uses: int
    denials: int
    problem: str = ""

    @property
    def cost_per_use(self) -> Decimal | None:
        if self.price_cny is None or not self.uses:
            return None
        return (self.price_cny / self.uses).quantize(Decimal("0.01"))


def price_day(resource: Resource, start: dt.date) -> dt.date:
    # The price was agreed when the subscription started; without a date, at the period start.
    return resource.subscription_start or start


def cost_per_use(library: Library, start: dt.date, end: dt.date) -> list[ValueRow]:
    rates = Rates(library)
    uses = usage_between(library, start, end)
    denials = denials_between(library, start, end)
    rows: list[ValueRow] = []
    for resource in Resource.objects.filter(library=library, is_active=True).select_related(
        "vendor", "category"
    ):
        price, problem = None, ""
        if resource.price is not None:
            try:
                price = rates.to_cny(resource.price, resource.currency, price_day(resource, start))
            except MissingRate as exc:
                problem = str(exc)
        rows.append(
            ValueRow(
                resource, price, uses.get(resource.pk, 0), denials.get(resource.pk, 0), problem
            )
        )
    # Most expensive per use first; unused priced resources on top (infinite cost per use).
    rows.sort(
        key=lambda r: (r.cost_per_use is not None, -(r.cost_per_use or 0), -(r.price_cny or 0))
    )
    rows.sort(key=lambda r: 0 if (r.price_cny and not r.uses) else 1)
    return rows


def year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def emergency_comparison(library: Library, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Use of each resource during [start, end] against the same dates a year earlier."""
    now = usage_between(library, start, end)
    before = usage_between(library, year_earlier(start), year_earlier(end))
    names = dict(Resource.objects.filter(pk__in=set(now) | set(before)).values_list("pk", "name"))
    rows = []
    for rid in sorted(set(now) | set(before), key=lambda r: -(now.get(r, 0))):
        a, b = now.get(rid, 0), before.get(rid, 0)
        rows.append(
            {
                "resource_id": rid,
                "name": names.get(rid, ""),
                "now": a,
                "year_before": b,
                "change": (a - b) / b if b else None,
            }
        )
    return rows


def unheld_demand(library: Library, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Document-delivery requests for titles not held (the delivery app's figure), if any."""
    try:
        from lifeline.delivery.services import unheld_demand as delivery_unheld
    except (ImportError, AttributeError):
        return []
    try:
        return list(delivery_unheld(library, start, end))
    except (AttributeError, TypeError):
        return []
