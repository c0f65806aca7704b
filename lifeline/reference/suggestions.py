"""Answer suggestions from the knowledge base (app `knowledge`), when it is installed.

The knowledge app owns the search (`lifeline.knowledge.services.suggest`) and the deflection
count (`record_deflection`); the desk only asks. Without that app the desk works, with no
suggestions: apps talk through small service functions, never each other's tables.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from lifeline.core.models import Library


@dataclass(frozen=True)
class Suggestion:
    """The shape knowledge's `suggest` returns (its own dataclass has these fields)."""

    kind: str  # "article" | "resource"
    id: int
    title: str
    url: str
    passage: str
    score: float


def _service() -> Any | None:
    try:
        return importlib.import_module("lifeline.knowledge.services")
    except ModuleNotFoundError as exc:
        if exc.name and "lifeline.knowledge.services".startswith(exc.name):
            return None
        raise


def suggest(
    library: Library, text: str, limit: int = 3, *, staff: bool = False
) -> list[Suggestion]:
    """Patrons are offered public and patron articles; `staff=True` (the console) adds the
    staff-only ones."""
    service = _service()
    if service is None or not hasattr(service, "suggest") or not text.strip():
        return []
    out = []
    for s in service.suggest(library, text, limit=limit, staff=staff):
        out.append(
            Suggestion(
                kind=str(s.kind),
                id=int(s.id),
                title=str(s.title),
                url=str(s.url),
                passage=str(s.passage),
                score=float(s.score),
            )
        )
    return out


def find(library: Library, text: str, kind: str, pk: int) -> Suggestion | None:
    """The suggestion the patron or librarian picked, if it was one offered for this text (a
    posted id is not trusted to name anything else)."""
    for s in suggest(library, text, limit=5):
        if s.kind == kind and s.id == pk:
            return s
    return None


def record_deflection(
    library: Library, suggestion: Suggestion, *, solved: bool = True, channel: str = ""
) -> None:
    """Count the patron's "did this solve it?" answer in the knowledge base (which reports it
    under the reference service); the ticket keeps its own record too."""
    service = _service()
    if service is None or not hasattr(service, "record_deflection"):
        return
    service.record_deflection(library, suggestion.kind, suggestion.id, solved, channel=channel)
