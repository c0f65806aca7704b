"""A library's own URL rules (stored in the database) turned into rules the engine uses."""

from __future__ import annotations

from typing import Any

from lifeline.analytics.logrules.engine import RuleSet, shipped_platforms
from lifeline.analytics.logrules.rules import Rule, RuleError, check_host, make_rule


def library_rule(
    host: str,
    pattern: str,
    cls: str,
    *,
    unit_kind: str = "",
    data_type: str = "",
    access: str = "controlled",
    number: int = 0,
) -> tuple[str, Rule]:
    """(host, Rule) from a form's fields, or RuleError saying what is wrong."""
    name = check_host(host, "host")
    raw: dict[str, Any] = {"id": f"r{number}", "match": pattern, "class": cls, "access": access}
    if unit_kind:
        raw["unit_kind"] = unit_kind
    if data_type:
        raw["data_type"] = data_type
    return name, make_rule(raw, "library", "library rule", {})


def library_ruleset(
    library: Any, proxy_suffix: str = "", extra: list[tuple[str, Rule]] | None = None
) -> RuleSet:
    """The shipped platforms plus the library's rules (in their order), plus `extra` (a rule
    being tried before it is saved). A stored rule that no longer validates is skipped."""
    from lifeline.analytics.models import LogRule

    own: list[tuple[str, Rule]] = []
    for row in LogRule.objects.filter(library=library).order_by("position", "id"):
        try:
            own.append(
                library_rule(
                    row.host,
                    row.pattern,
                    row.cls,
                    unit_kind=row.unit_kind,
                    data_type=row.data_type,
                    access=row.access,
                    number=row.pk,
                )
            )
        except RuleError:
            continue
    return RuleSet(shipped_platforms(), own + (extra or []), proxy_suffix=proxy_suffix)
