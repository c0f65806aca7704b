"""The counts contract: how every app tells the service report its volumes for a period.

Each app may hold a module `lifeline/<app>/counts.py` with one function

    counts(library, start, end) -> list[Count]

(dates both included). The report reads only these, never another app's tables. An app that is
not installed, or has no `counts.py` yet, simply gives nothing: its table-1 row shows "no data",
which is not the same as zero.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from lifeline.core.models import Library

# Apps asked for counts, in order. Apps not yet on this installation are skipped.
COUNT_APPS = [
    "registry",
    "accounts",
    "health",
    "emergency",
    "delivery",
    "analytics",
    "theses",
    "research",
    "outreach",
    "selection",
    "reference",
    "knowledge",
    "push",
]

# The seed's table 1, one row per service type, in its order (plus two rows of our own).
SERVICE_TYPES: list[tuple[str, Promise]] = [
    ("remote_access", _("Remote access")),
    ("digital_resources", _("Digital resources")),
    ("print", _("Print resources")),
    ("subject_analysis", _("Subject analysis")),
    ("citation_reports", _("Citation and novelty reports")),
    ("delivery", _("Document delivery")),
    ("ip", _("Intellectual property")),
    ("reading_promotion", _("Reading promotion")),
    ("reference", _("Reference enquiries")),
    ("literacy", _("Information literacy")),
    ("thesis", _("Thesis deposit")),
    ("push", _("Information push")),
    ("rooms", _("Recording rooms")),
    ("availability", _("Resource availability")),
    ("emergency", _("Emergency response")),
]
SERVICE_KEYS = {key for key, _label in SERVICE_TYPES}

# Measures with a meaning the report's tables 2 and 3 rely on.
REQUESTED = "requested"
SUPPLIED = "supplied"
FULL_TEXT = "full_text"


@dataclass(frozen=True)
class Count:
    """One figure. `measure` names it within its service type ("databases", "requested" ...);
    `label` is empty for the service's own figure and names a part otherwise (a channel, a
    platform); `unit` and `how_counted` are shown to the reader (translated lazily)."""

    service_key: str
    measure: str
    figure: int | float | None
    unit: str | Promise
    how_counted: str | Promise
    title: str | Promise = ""
    label: str = ""


Provider = Callable[["Library", dt.date, dt.date], list[Count]]


def providers() -> dict[str, Provider]:
    """App name → its `counts` function, for every app that has one."""
    found: dict[str, Provider] = {}
    for app in COUNT_APPS:
        name = f"lifeline.{app}.counts"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # the app or its counts module is absent: no data, not an error
            raise
        found[app] = module.counts
    return found


def collect(library: Library, start: dt.date, end: dt.date) -> list[Count]:
    """Every app's counts for the library and period (dates included)."""
    out: list[Count] = []
    for provider in providers().values():
        out.extend(provider(library, start, end))
    return out


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
