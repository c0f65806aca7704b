"""Every URL of the project, with its path parameters filled from one library's objects.

Used by the enumeration, header and escaping tests: new pages of any app are covered the day
they are added to a urls.py, without anyone listing them here.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# The admin is walked through its index only: its internals are Django's, and every admin
# page answers a non-staff user with the same redirect.
SKIP_PREFIXES = ("admin/", "static/", "media/", "__debug__/")
ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
MAX_VARIANTS = 3
MAX_IDS = 4
# The OpenAPI document holds no records and takes a second to build: schemathesis covers it.
SKIP_NAMES = {"api-schema"}


@dataclass(frozen=True)
class Walked:
    url: str
    route: str
    name: str


def _routes(
    patterns: list[Any], prefix: str = "", name_prefix: str = ""
) -> Iterator[tuple[str, str]]:
    for p in patterns:
        piece = p.pattern._route if isinstance(p.pattern, RoutePattern) else _regex_route(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{name_prefix}{p.namespace}:" if p.namespace else name_prefix
            yield from _routes(p.url_patterns, prefix + piece, ns)
        elif isinstance(p, URLPattern):
            yield prefix + piece, f"{name_prefix}{p.name or ''}"


def _regex_route(pattern: RegexPattern) -> str:
    regex = pattern._regex.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")
    regex = regex.replace("/?", "/")
    return REGEX_GROUP.sub(lambda m: f"<{m.group('name')}>", regex)


def library_values(library: Any) -> dict[str, list[str]]:
    """Values to try for path parameters: keys and ids of the library's own objects."""
    ints: list[str] = []
    slugs: list[str] = [library.code]
    uuids: list[str] = []
    for model in apps.get_models():
        manager = model._default_manager
        if not hasattr(manager, "for_library") or model._meta.label == "core.Library":
            continue
        try:
            rows = list(manager.for_library(library).order_by("pk")[:2])
        except Exception:  # noqa: S112 - a model whose lookup does not apply is simply skipped
            continue
        for row in rows:
            if str(row.pk) not in ints and str(row.pk).isdigit():
                ints.append(str(row.pk))
            for attr in ("key", "slug", "code", "token"):
                value = getattr(row, attr, None)
                if isinstance(value, str) and value and value not in slugs:
                    slugs.append(value)
            for field in model._meta.fields:
                if field.get_internal_type() == "UUIDField":
                    uuids.append(str(getattr(row, field.name)))
    return {
        "int": ints[:MAX_IDS] or ["1"],
        "slug": slugs,
        "uuid": uuids or [str(uuid.uuid4())],
        "path": ["x"],
    }


def _candidates(conv: str, name: str, values: dict[str, list[str]]) -> list[str]:
    if name in {"format"}:
        return ["json"]
    if name in {"library", "code", "library_code"}:
        return values["slug"][:1]
    if conv == "int" or name in {"pk", "id"} or name.endswith(("_id", "_pk")):
        return values["int"]
    if conv == "uuid":
        return values["uuid"]
    if conv == "path":
        return values["path"]
    return values["slug"]


def walk(library: Any) -> list[Walked]:
    values = library_values(library)
    walked: list[Walked] = []
    seen: set[str] = set()
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or name in SKIP_NAMES:
            continue
        if any(ch in route for ch in "()[]|*+?\\"):
            continue  # a regex we cannot fill (none of ours; reported by the coverage assertion)
        params = [(m.group("conv") or "str", m.group("name")) for m in ROUTE_PARAM.finditer(route)]
        choices = [_candidates(conv, pname, values) for conv, pname in params]
        for combo in itertools.islice(itertools.product(*choices), MAX_VARIANTS):
            url = route
            for value in combo:
                url = ROUTE_PARAM.sub(value.replace("\\", ""), url, count=1)
            url = "/" + url
            if url not in seen:
                seen.add(url)
                walked.append(Walked(url=url, route=route, name=name))
    walked.append(Walked(url="/admin/", route="admin/", name="admin:index"))
    return walked
