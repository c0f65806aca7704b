from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.utils.safestring import SafeString

from lifeline.core.charts import uptime_bars

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


@register.filter
def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@register.simple_tag
def uptime_strip(days: list[tuple[str, float | None]]) -> SafeString:
    return uptime_bars(days, width=300, height=24)
