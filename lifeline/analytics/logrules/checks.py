"""A system check: the rules library loads (run by `check`, `migrate`, `runserver` and every
command that checks the project at start-up), so a broken file stops start-up, named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.checks import Error, register

from lifeline.analytics.logrules.rules import PLATFORM_DIR, RuleError, load_platforms


def check_rules(directory: Path = PLATFORM_DIR) -> list[Error]:
    try:
        load_platforms(directory)
    except RuleError as exc:
        return [
            Error(
                f"Platform rules refused: {exc}",
                hint="Fix the file in lifeline/analytics/logrules/platforms/.",
                id="analytics.E019",
            )
        ]
    return []


@register()
def platform_rules(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return check_rules()
