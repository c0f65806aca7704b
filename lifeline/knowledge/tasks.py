from __future__ import annotations

from django.tasks import task

from lifeline.core.models import Library


@task()
def sync_resource_guides(resource_id: int) -> int:
    """Rewrite one resource's generated access guides after a registry change."""
    from lifeline.knowledge.guides import sync_resource

    return sync_resource(resource_id)


@task()
def sync_all_guides() -> int:
    """The nightly safety net: every library's guides against its registry."""
    from lifeline.knowledge.guides import sync_library

    return sum(sync_library(lib) for lib in Library.objects.all())
