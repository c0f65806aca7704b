"""Exports: CSV (UTF-8 with BOM) and XLSX through core.spreadsheets, headers in Chinese or
English, choice values as labels of that language (the importer reads them back), and
EZproxy stanzas for the proxy routes. Passwords leave only when asked for explicitly."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.db.models import F

from lifeline.core.models import Library
from lifeline.core.spreadsheets import csv_text, xlsx_bytes
from lifeline.registry.choices import RouteKind
from lifeline.registry.io.choices import KIND_ORDER, ImportKind
from lifeline.registry.io.columns import COLUMNS, Column, sheet_title
from lifeline.registry.models import AccessRoute, Resource, Vendor


def _columns(kind: str, secrets: bool) -> list[Column]:
    return [c for c in COLUMNS[kind] if secrets or not c.secret]


def _reference(obj: Any, column: Column) -> Any:
    if column.field == "vendor":
        return obj.vendor.key if obj.vendor else ""
    if column.field == "parent":
        return obj.parent.key if obj.parent else ""
    if column.field == "category":
        return obj.category.name if obj.category else ""
    if column.field == "resource":
        return obj.resource.key
    if column.field == "content_types":
        return obj.content_type_list
    return getattr(obj, column.field)


def _objects(library: Library, kind: str) -> Iterable[Any]:
    if kind == ImportKind.VENDORS:
        return Vendor.objects.filter(library=library).order_by("key")
    if kind == ImportKind.RESOURCES:
        # Parents first, so the file never refers forward (the importer copes anyway).
        return (
            Resource.objects.filter(library=library)
            .select_related("vendor", "parent", "category")
            .order_by(F("parent_id").asc(nulls_first=True), "key")
        )
    return (
        AccessRoute.objects.filter(resource__library=library)
        .select_related("resource")
        .order_by("resource__key", "kind", "label", "pk")
    )


def table(
    library: Library, kind: str, language: str, secrets: bool = False
) -> tuple[list[str], list[list[Any]]]:
    columns = _columns(kind, secrets)
    header = [c.header(language) for c in columns]
    rows = [
        [c.export_value(_reference(obj, c), language) for c in columns]
        for obj in _objects(library, kind)
    ]
    return header, rows


def export_csv(library: Library, kind: str, language: str, secrets: bool = False) -> bytes:
    header, rows = table(library, kind, language, secrets)
    return csv_text(header, rows).encode("utf-8")


def export_xlsx(library: Library, language: str, secrets: bool = False) -> bytes:
    return xlsx_bytes(
        {sheet_title(k, language): table(library, k, language, secrets) for k in KIND_ORDER}
    )


_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def _one_line(text: str) -> str:
    # A newline in a title would start a new, attacker-chosen directive in the EZproxy config.
    return _UNSAFE.sub(" ", text).strip()


def _domain(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def export_ezproxy(library: Library) -> str:
    """One stanza per proxy route: Title, URL, then DJ lines for the hosts it needs."""
    prefix = library.proxy_prefix
    lines = [
        f"# EZproxy stanzas for {_one_line(library.name)} ({library.code}), exported by Lifeline",
        "",
    ]
    routes = AccessRoute.objects.filter(
        resource__library=library, kind=RouteKind.PROXY, is_active=True
    )
    for route in routes.select_related("resource").order_by("resource__key", "priority", "pk"):
        url = route.url[len(prefix) :] if prefix and route.url.startswith(prefix) else route.url
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            continue
        resource = route.resource
        title = resource.name + (
            f" ({resource.name_en})"
            if resource.name_en and resource.name_en != resource.name
            else ""
        )
        lines += [f"# {resource.key}", f"Title {_one_line(title)}", f"URL {_one_line(url)}"]
        domains = [_domain(host)]
        for other in (route.target, resource.homepage):
            other_host = (urlsplit(other).hostname or "").lower() if other else ""
            if other_host and _domain(other_host) not in domains:
                domains.append(_domain(other_host))
        lines += [f"DJ {d}" for d in domains]
        lines.append("")
    return "\n".join(lines)
