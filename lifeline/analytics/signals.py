"""Analytics listens to the registry: a resource's KBART list replaced means its title matches are
stale (the old holdings went with the old lines), so the library's titles are matched again."""

from __future__ import annotations

from typing import Any

from lifeline.registry.models import Resource
from lifeline.registry.signals import holdings_replaced


def _match_again(sender: type, resource: Resource, **kwargs: Any) -> None:
    from lifeline.analytics.tasks import match_titles

    # A task, not inline: matching a large library takes seconds and the import page waits.
    match_titles.enqueue(resource.library_id)


holdings_replaced.connect(_match_again, dispatch_uid="analytics_match_after_kbart")
