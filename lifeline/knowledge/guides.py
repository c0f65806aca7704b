"""Articles generated from the registry: each active resource's access guide, in Chinese and
English, rewritten whenever the resource or one of its routes changes (signals.py) and once a
night for every library (schedule.py), so the guide a search finds says what the A–Z page says.

Only what the registry's patron page shows to anyone goes in: route kinds, instructions and
links; never a shared account's credentials.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import translation
from django.utils.html import escape

from lifeline.core.models import Library
from lifeline.knowledge.choices import Audience
from lifeline.knowledge.models import Article
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import Resource

TAG = "registry"


def guide(resource: Resource, language: str) -> tuple[str, str]:
    """(title, HTML body) of the resource's access guide in one language."""
    english = language == "en"
    with translation.override("en" if english else "zh-hans"):
        name = resource.display("name")
        description = resource.display("description")
        parts: list[str] = []
        if description:
            parts.append(f"<p>{escape(description)}</p>")
        routes = resource.ordered_routes()
        if english:
            title = f"{name}: how to access it (on and off campus)"
            intro = f"{name} can be reached in these ways, best first for a reader at home."
            none = "No working access route is recorded at the moment; ask the reference desk."
        else:
            title = f"{name} 访问指南（校内、校外）"
            intro = f"{name} 可以通过以下途径访问，在家（校外）使用时请按顺序尝试。"
            none = "目前没有可用的访问途径，请咨询参考咨询台。"
        parts.append(f"<p>{escape(intro)}</p>" if routes else f"<p>{escape(none)}</p>")
        items = []
        for route in routes:
            label = str(RouteKind(route.kind).label)
            line = f"<strong>{escape(label)}</strong>"
            if route.label:
                line += f" ({escape(route.label)})"
            instructions = route.display_instructions()
            if instructions:
                line += f"：{escape(instructions)}" if not english else f": {escape(instructions)}"
            link = route.link() if route.kind != RouteKind.ACCOUNT else ""
            if link:
                line += f' <a href="{escape(link)}">{escape(link)}</a>'
            items.append(f"<li>{line}</li>")
        if items:
            parts.append("<ol>" + "".join(items) + "</ol>")
        return title, "".join(parts)


@transaction.atomic
def sync_resource(resource_id: int) -> int:
    """Write (or remove) the two guides of one resource; returns how many articles changed."""
    from lifeline.knowledge import services

    resource = (
        Resource.objects.select_related("library")
        .prefetch_related("routes")
        .filter(pk=resource_id)
        .first()
    )
    if resource is None:
        return 0
    changed = 0
    for language in ("zh-hans", "en"):
        existing = Article.objects.filter(resource=resource, language=language).first()
        if not resource.is_active:
            if existing is not None and existing.is_published:
                services.update_article(existing, is_published=False, note="resource inactive")
                changed += 1
            continue
        title, body = guide(resource, language)
        if existing is None:
            services.create_article(
                resource.library,
                title=title,
                body=body,
                language=language,
                audience=Audience.PUBLIC,
                tags=[TAG],
                resource=resource,
            )
            changed += 1
        else:
            before = existing.version
            services.update_article(
                existing, title=title, body=body, is_published=True, note="registry changed"
            )
            changed += int(Article.objects.get(pk=existing.pk).version != before)
    return changed


def sync_library(library: Library) -> int:
    changed = 0
    for pk in Resource.objects.filter(library=library).values_list("pk", flat=True):
        changed += sync_resource(pk)
    return changed
