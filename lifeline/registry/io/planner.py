"""Plan an upsert of vendors, resources and routes without writing, then apply it in bulk.

Records are matched on their stable key within the library (routes on resource key, kind and
label). Only the columns present in the file are changed, so a file that leaves out the
password column leaves the passwords alone. Bulk writes skip per-row audit signals on purpose:
an import writes one IMPORT audit row with its counts instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.registry.io.choices import ImportKind, Outcome
from lifeline.registry.io.mapping import ParsedRow
from lifeline.registry.io.report import ImportReport, Issue, RowResult
from lifeline.registry.io.values import norm
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor, normalise_text

Progress = Callable[[str, int, int], None]
REFERENCES = {"vendor", "parent", "category", "resource"}


@dataclass
class Planned:
    obj: models.Model
    row: ParsedRow
    outcome: str
    changed: list[str] = field(default_factory=list)


@dataclass
class Plan:
    library: Library
    report: ImportReport
    vendors: list[Planned] = field(default_factory=list)
    resources: list[Planned] = field(default_factory=list)
    routes: list[Planned] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)  # child key → parent key ("" clears)


def _same(a: Any, b: Any) -> bool:
    return (None if a == "" else a) == (None if b == "" else b)


def _assign(obj: models.Model, values: dict[str, Any]) -> list[str]:
    """Set plain fields; return the names of those whose value changes."""
    changed = []
    for name, value in values.items():
        if name in REFERENCES or name == "key":
            continue
        model_field: Any = obj._meta.get_field(name)
        if value is None and not model_field.null:
            # An empty cell in a column that cannot be empty means "the usual value".
            value = model_field.get_default()
        if name == "content_types":
            before = obj.content_type_list  # type: ignore[attr-defined]
            obj.set_content_types(value)  # type: ignore[attr-defined]
            if before != value:
                changed.append(name)
            continue
        if obj.pk is None or not _same(getattr(obj, name), value):
            changed.append(name)
        setattr(obj, name, value)
    return changed


def _validate(obj: models.Model, row: ParsedRow, exclude: list[str], errors: list[Issue]) -> bool:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            column = "" if name == NON_FIELD_ERRORS else row.columns.get(name, name)
            errors.extend(Issue(row.table.source, row.line, column, m) for m in messages)
        return False
    return True


def _outcome(obj: models.Model, changed: list[str]) -> str:
    if obj.pk is None:
        return Outcome.CREATE
    return Outcome.UPDATE if changed else Outcome.UNCHANGED


def _check_duplicates(
    rows: list[ParsedRow], key: Callable[[ParsedRow], Any], errors: list[Issue], column: str
) -> list[ParsedRow]:
    first: dict[Any, ParsedRow] = {}
    unique = []
    for row in rows:
        k = key(row)
        if k in first:
            errors.append(
                row.issue(
                    column,
                    _("Duplicate: the same key is already on line %(line)d of %(source)s.")
                    % {"line": first[k].line, "source": first[k].table.source},
                )
            )
            continue
        first[k] = row
        unique.append(row)
    return unique


def plan_vendors(plan: Plan, rows: list[ParsedRow], errors: list[Issue]) -> dict[str, Vendor]:
    existing = {v.key: v for v in Vendor.objects.filter(library=plan.library)}
    for row in _check_duplicates(rows, lambda r: r.values["key"], errors, "key"):
        key = row.values["key"]
        obj = existing.get(key) or Vendor(library=plan.library, key=key)
        changed = _assign(obj, row.values)
        if _validate(obj, row, ["library"], errors):
            plan.vendors.append(Planned(obj, row, _outcome(obj, changed), changed))
        existing[key] = obj
    return existing


def _find_vendor(vendors: dict[str, Vendor], text: str) -> Vendor | None:
    if text in vendors:
        return vendors[text]
    wanted = norm(text)
    return next((v for v in vendors.values() if wanted in {norm(v.name), norm(v.name_en)}), None)


class _Categories:
    """Categories by language and name (Chinese or English); missing ones are created."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.known: dict[tuple[str, str], Category] = {}
        self.next_position: dict[str, int] = {}
        for cat in Category.objects.filter(library=plan.library):
            for name in (cat.name, cat.name_en):
                if name:
                    self.known.setdefault((cat.language, norm(name)), cat)
            self.next_position[cat.language] = max(
                self.next_position.get(cat.language, 0), cat.position + 1
            )

    def get(self, language: str, name: str) -> Category:
        key = (language, norm(name))
        if key not in self.known:
            position = self.next_position.get(language, 0)
            self.next_position[language] = position + 1
            cat = Category(
                library=self.plan.library, language=language, name=name, position=position
            )
            self.known[key] = cat
            self.plan.categories.append(cat)
        return self.known[key]


def plan_resources(
    plan: Plan, rows: list[ParsedRow], vendors: dict[str, Vendor], errors: list[Issue]
) -> dict[str, Resource]:
    existing = {r.key: r for r in Resource.objects.filter(library=plan.library)}
    key_of = {r.pk: r.key for r in existing.values()}
    parent_of = {r.key: key_of.get(r.parent_id, "") for r in existing.values()}
    categories = _Categories(plan)
    for row in _check_duplicates(rows, lambda r: r.values["key"], errors, "key"):
        key = row.values["key"]
        obj = existing.get(key) or Resource(library=plan.library, key=key)
        changed = _assign(obj, row.values)
        ok = True
        if "vendor" in row.values:
            vendor = _find_vendor(vendors, row.values["vendor"]) if row.values["vendor"] else None
            if row.values["vendor"] and vendor is None:
                errors.append(
                    row.issue(
                        "vendor",
                        _("No vendor with key or name “%(value)s” in this library or this file.")
                        % {"value": row.values["vendor"]},
                    )
                )
                ok = False
            elif (
                obj.pk is None
                or obj.vendor_id != getattr(vendor, "pk", None)
                or (vendor is not None and vendor.pk is None)
            ):
                changed.append("vendor")
            obj.vendor = vendor
        if "category" in row.values:
            category = (
                categories.get(obj.language, row.values["category"])
                if row.values["category"]
                else None
            )
            if (
                obj.pk is None
                or obj.category_id != getattr(category, "pk", None)
                or (category is not None and category.pk is None)
            ):
                changed.append("category")
            obj.category = category
        if "parent" in row.values:
            parent_of[key] = row.values["parent"]
            plan.parents[key] = row.values["parent"]
        ok = _validate(obj, row, ["library", "vendor", "category", "parent"], errors) and ok
        if ok:
            plan.resources.append(Planned(obj, row, _outcome(obj, changed), changed))
        existing[key] = obj
    _check_parents(plan, existing, parent_of, errors)
    return existing


def _check_parents(
    plan: Plan, resources: dict[str, Resource], parent_of: dict[str, str], errors: list[Issue]
) -> None:
    for item in plan.resources:
        key = item.obj.key  # type: ignore[attr-defined]
        if key not in plan.parents:
            continue
        parent_key = plan.parents[key]
        if parent_key and parent_key not in resources:
            errors.append(
                item.row.issue(
                    "parent",
                    _("No resource with key “%(value)s” in this library or this file.")
                    % {"value": parent_key},
                )
            )
            continue
        seen, cursor = {key}, parent_key
        while cursor:
            if cursor in seen:
                errors.append(
                    item.row.issue(
                        "parent",
                        _("“%(key)s” would end up inside itself through its parent databases.")
                        % {"key": key},
                    )
                )
                break
            seen.add(cursor)
            cursor = parent_of.get(cursor, "")
        parent = resources.get(parent_key) if parent_key else None
        old = item.obj.parent_id  # type: ignore[attr-defined]
        if (parent is None and old is not None) or (parent is not None and parent.pk != old):
            item.changed.append("parent")
            if item.outcome == Outcome.UNCHANGED:
                item.outcome = Outcome.UPDATE


def _route_key(resource_key: str, kind: str, label: str) -> tuple[str, str, str]:
    return (resource_key, kind, norm(label))


def plan_routes(
    plan: Plan, rows: list[ParsedRow], resources: dict[str, Resource], errors: list[Issue]
) -> None:
    existing: dict[tuple[str, str, str], list[AccessRoute]] = {}
    for route in AccessRoute.objects.filter(resource__library=plan.library).select_related(
        "resource"
    ):
        existing.setdefault(_route_key(route.resource.key, route.kind, route.label), []).append(
            route
        )
    keyed = _check_duplicates(
        rows,
        lambda r: _route_key(r.values["resource"], r.values["kind"], r.values.get("label", "")),
        errors,
        "label",
    )
    for row in keyed:
        resource = resources.get(row.values["resource"])
        if resource is None:
            errors.append(
                row.issue(
                    "resource",
                    _("No resource with key “%(value)s” in this library or this file.")
                    % {"value": row.values["resource"]},
                )
            )
            continue
        matches = existing.get(
            _route_key(resource.key, row.values["kind"], row.values.get("label", "")), []
        )
        if len(matches) > 1:
            errors.append(
                row.issue(
                    "label",
                    _(
                        "Several existing routes of this resource share this kind and label; give them distinct labels first."  # noqa: E501
                    ),
                )
            )
            continue
        obj = matches[0] if matches else AccessRoute(resource=resource)
        changed = _assign(obj, row.values)
        if _validate(obj, row, ["resource"], errors):
            plan.routes.append(Planned(obj, row, _outcome(obj, changed), changed))


def _header(row: ParsedRow, field_name: str) -> str:
    name = row.columns.get(field_name, field_name)
    return name.split(" ", 1)[1] if " " in name else name


def record(plan: Plan) -> None:
    for kind, items in (
        (ImportKind.VENDORS, plan.vendors),
        (ImportKind.RESOURCES, plan.resources),
        (ImportKind.ROUTES, plan.routes),
    ):
        for item in items:
            obj: Any = item.obj
            key = (
                obj.key
                if kind != ImportKind.ROUTES
                else f"{obj.resource.key} · {obj.get_kind_display()}{' · ' + obj.label if obj.label else ''}"  # noqa: E501
            )
            plan.report.rows.append(
                RowResult(
                    kind,
                    item.row.table.source,
                    item.row.line,
                    key,
                    item.outcome,
                    sorted(set(item.changed)),
                    # The headers as the file wrote them, for the preview table.
                    [_header(item.row, f) for f in sorted(set(item.changed))],
                )
            )
    for cat in plan.categories:
        plan.report.warnings.append(
            Issue(
                "",
                None,
                "",
                _("A new category “%(name)s” (%(language)s) will be created.")
                % {"name": cat.name, "language": cat.get_language_display()},
            )
        )


def apply(plan: Plan) -> None:
    """Write the plan. The caller holds the transaction."""
    now = timezone.now()
    _write(Vendor, plan.vendors, now)
    Category.objects.bulk_create(plan.categories)
    # A new sub-database may point at a parent created in the same run: create first, link after.
    resources = {item.obj.key: item.obj for item in plan.resources}  # type: ignore[attr-defined]
    wanted: dict[str, str] = dict(plan.parents)
    for item in plan.resources:
        obj: Any = item.obj
        obj.search_text = normalise_text(
            obj.key, obj.name, obj.name_en, obj.description, obj.description_en
        )
        if obj.key in wanted:
            obj.parent = None if obj.pk is None else obj.parent
    _write(Resource, plan.resources, now, extra=["search_text"])
    by_key = resources | {
        r.key: r
        for r in Resource.objects.filter(
            library=plan.library, key__in=set(wanted.values()) - set(resources)
        )
    }
    relinked: list[Any] = []
    for key, parent_key in wanted.items():
        child = resources.get(key)
        if child is None:
            continue
        child.parent = by_key.get(parent_key) if parent_key else None  # type: ignore[attr-defined]
        relinked.append(child)
    Resource.objects.bulk_update(relinked, ["parent"], batch_size=500)
    _write(AccessRoute, plan.routes, now)
    plan.library.touch_registry()


def _write(
    model: type[models.Model], items: list[Planned], now: Any, extra: list[str] | None = None
) -> None:
    new = [i.obj for i in items if i.outcome == Outcome.CREATE]
    model._default_manager.bulk_create(new, batch_size=500)
    updated = [i for i in items if i.outcome == Outcome.UPDATE]
    fields = sorted(
        {f for i in updated for f in i.changed if f != "parent"} | set(extra or []) | {"updated_at"}
    )
    for i in updated:
        i.obj.updated_at = now  # type: ignore[attr-defined]
    if updated:
        model._default_manager.bulk_update([i.obj for i in updated], fields, batch_size=500)
