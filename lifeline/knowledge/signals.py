"""A registry change rewrites the access guides of the resource it touched, after the commit
(so a rolled-back import rewrites nothing, and an import of many rows enqueues each resource
once per save, not per route read)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save


def _enqueue(resource_id: int) -> None:
    from lifeline.knowledge.tasks import sync_resource_guides

    transaction.on_commit(lambda: sync_resource_guides.enqueue(resource_id))


def on_resource(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    _enqueue(instance.pk)


def on_route(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    _enqueue(instance.resource_id)


def on_article_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    from lifeline.knowledge.search import forget_stats

    forget_stats()


def on_article_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    from lifeline.knowledge.search import write_postings

    write_postings([instance])


def connect() -> None:
    post_save.connect(on_resource, sender="registry.Resource", dispatch_uid="knowledge-resource")
    post_save.connect(on_route, sender="registry.AccessRoute", dispatch_uid="knowledge-route")
    post_delete.connect(on_route, sender="registry.AccessRoute", dispatch_uid="knowledge-route-del")
    # Search ranks the postings written here from the saved article's tokens.
    post_save.connect(on_article_saved, sender="knowledge.Article", dispatch_uid="knowledge-save")
    # Search's cached counts follow deletions (a save raises the stamp it reads itself).
    post_delete.connect(
        on_article_deleted, sender="knowledge.Article", dispatch_uid="knowledge-del"
    )
