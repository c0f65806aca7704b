"""Small display helpers for the patron pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from lifeline.registry.choices import ROUTE_COLOURS
from lifeline.registry.models import Bilingual

register = template.Library()

# The states `lifeline.health.services.current_states` reports for a route.
STATE_COLOURS = {"up": "green", "degraded": "orange", "down": "red", "unknown": "grey"}
STATE_LABELS = {
    "up": _("Working"),
    "degraded": _("Slow"),
    "down": _("Down"),
    "unknown": _("Not checked yet"),
}


@register.filter
def display(obj: Bilingual, field: str) -> str:
    """`obj.display(field)`: the English text in English when there is one."""
    return obj.display(field)


@register.filter
def other_name(obj: Any) -> str:
    """The name in the other language, shown under the main one (patrons search by either)."""
    english = (get_language() or "").startswith("en")
    name, name_en = obj.name, getattr(obj, "name_en", "")
    if not name_en or name_en == name:
        return ""
    return name if english else name_en


@register.filter
def state_colour(state: str) -> str:
    return STATE_COLOURS.get(state, "grey")


@register.filter
def route_colour(kind: str) -> str:
    return ROUTE_COLOURS.get(kind, "grey")  # type: ignore[call-overload]


@register.filter
def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, STATE_LABELS["unknown"]))
