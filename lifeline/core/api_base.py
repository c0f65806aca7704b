"""Building blocks every app's API shares: library-scoped viewsets, query filters, audit scope.

A staff viewset names `change_action`; reads are narrowed to the libraries where the user
holds any role (so another library's record is a 404, never data), writes need the action
in the object's own library (a 403 for a viewer of that library).
"""

from __future__ import annotations

import contextvars
import copy
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.pagination import BasePagination
from rest_framework.request import Request

from lifeline.core.admin import foreign_relations
from lifeline.core.api_auth import AUDIT_SCOPE_ATTR
from lifeline.core.audit import library_of
from lifeline.core.pagination import Pagination
from lifeline.core.permissions import VIEW, is_staff_anywhere, library_ids_for, user_can

# --- audit scope ---------------------------------------------------------------------


def audit_scoped(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run an API view in a copy of the context, so the actor that token authentication sets
    (lifeline.core.api_auth) dies with the request instead of leaking into the thread's next one."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        setattr(request, AUDIT_SCOPE_ATTR, True)
        return contextvars.copy_context().run(view, request, *args, **kwargs)

    return wrapper


# --- permissions ---------------------------------------------------------------------


class LibraryRolePermission(permissions.BasePermission):
    """Reading needs a staff role somewhere (the queryset narrows further); writing needs the
    view's `change_action` somewhere, and then in the library of the object itself."""

    message = _("Your role does not allow this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return is_staff_anywhere(user)
        action = getattr(view, "change_action", "core.manage")  # a ViewSet without one: admins
        return bool(user.is_superuser) or bool(library_ids_for(user, action))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        library = library_of(obj)
        return library is not None and user_can(request.user, library, view.change_action)


# --- filters ---------------------------------------------------------------------------


BIGINT = 2**63 - 1  # ids are 64-bit; a bigger number is a bad value, not a database error


def _as_int(raw: str) -> int:
    value = int(raw)
    if not -BIGINT <= value <= BIGINT:
        raise ValueError(raw)
    return value


def _as_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _as_date(raw: str) -> dt.date:
    value = parse_date(raw)
    if value is None:
        raise ValueError(raw)
    return value


def _as_datetime(raw: str) -> dt.datetime:
    value = parse_datetime(raw)
    if value is None:
        day = parse_date(raw)
        if day is None:
            raise ValueError(raw)
        value = dt.datetime.combine(day, dt.time.min)
    # A bare date or time is read in the installation's time zone, as people mean it.
    value = timezone.make_aware(value) if timezone.is_naive(value) else value
    # In UTC: PostgreSQL refuses offsets beyond ±15:59, which Python parses (+16:53 → a 500).
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError(raw) from exc


PARSERS: dict[str, tuple[Callable[[str], Any], dict[str, Any]]] = {
    "int": (_as_int, {"type": "integer"}),
    "bool": (_as_bool, {"type": "boolean"}),
    "str": (str, {"type": "string"}),
    "date": (_as_date, {"type": "string", "format": "date"}),
    "datetime": (_as_datetime, {"type": "string", "format": "date-time"}),
}


@dataclass(frozen=True)
class QueryFilter:
    """One `?name=value` filter: a lookup (or a callable taking the queryset and the value)."""

    lookup: str | Callable[[models.QuerySet[Any], Any], models.QuerySet[Any]]
    kind: str = "str"
    # Lazy translations are welcome: the schema renders them in the request's language.
    description: str | Promise = ""
    enum: tuple[str, ...] = field(default_factory=tuple)


class QueryParamFilter(BaseFilterBackend):
    """Applies `view.query_filters`; a malformed value is a 400 naming the parameter."""

    def filter_queryset(
        self, request: Request, queryset: models.QuerySet[Any], view: Any
    ) -> models.QuerySet[Any]:
        errors: dict[str, list[str]] = {}
        for name, spec in getattr(view, "query_filters", {}).items():
            raw = request.query_params.get(name)
            if raw is None or raw == "":
                continue
            parser, _schema = PARSERS[spec.kind]
            try:
                value = parser(raw)
            except (ValueError, TypeError):
                errors[name] = [
                    str(
                        _("“%(value)s” is not a valid value for %(name)s.")
                        % {"value": raw[:100], "name": name}
                    )
                ]
                continue
            if spec.enum and value not in spec.enum:
                errors[name] = [
                    str(
                        _("“%(value)s” is not one of: %(choices)s.")
                        % {"value": raw[:100], "choices": ", ".join(spec.enum)}
                    )
                ]
                continue
            queryset = (
                spec.lookup(queryset, value)
                if callable(spec.lookup)
                else queryset.filter(**{spec.lookup: value})
            )
        if errors:
            raise exceptions.ValidationError(errors)
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = []
        for name, spec in getattr(view, "query_filters", {}).items():
            schema = dict(PARSERS[spec.kind][1])
            if spec.enum:
                schema["enum"] = list(spec.enum)
            params.append(
                {
                    "name": name,
                    "required": False,
                    "in": "query",
                    "description": str(spec.description),
                    "schema": schema,
                }
            )
        return params


# --- viewsets and serializers --------------------------------------------------------------


class LibraryScopedMixin:
    """Records of the user's libraries. Subclasses set `queryset` (with the joins the serializer
    needs), `serializer_class`, `change_action`, `query_filters` and `ordering_fields`."""

    change_action = "core.manage"
    # Typed as DRF's own attributes so that the viewsets mixing this in agree with GenericAPIView.
    permission_classes: Sequence[Any] = [LibraryRolePermission]
    filter_backends: Sequence[Any] = [QueryParamFilter, OrderingFilter]
    pagination_class: type[BasePagination] | None = Pagination
    query_filters: dict[str, QueryFilter] = {}

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().restrict(self.request.user, VIEW)  # type: ignore[misc, attr-defined]


class LibraryScopedViewSet(LibraryScopedMixin, viewsets.ModelViewSet):
    pass


class LibraryScopedReadOnlyViewSet(LibraryScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class LibraryScopedSerializer(serializers.ModelSerializer):
    """Related choices narrowed to what the user may see; the record may not be created in, or
    moved to, a library where the user lacks the action; the model's own `clean()` applies."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None:  # schema generation
            return fields
        for f in fields.values():
            queryset = getattr(f, "queryset", None)
            if queryset is not None and hasattr(queryset, "restrict"):
                f.queryset = queryset.restrict(request.user, VIEW)  # type: ignore[attr-defined]
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model: type[models.Model] = self.Meta.model
        candidate = model() if self.instance is None else copy.copy(self.instance)
        for name, value in attrs.items():
            setattr(candidate, name, value)
        library_id = library_of(candidate)
        request = self.context["request"]
        view = self.context["view"]
        field_name = getattr(model, "library_lookup", "library").split("__")[0]
        if self.instance is not None and library_id != library_of(self.instance):
            raise serializers.ValidationError(
                {field_name: [_("A record cannot move to another library.")]}
            )
        if library_id is None or not user_can(request.user, library_id, view.change_action):
            raise exceptions.PermissionDenied(
                _("Your role does not allow changes in this library.")
            )
        relations = [
            f.name for f in model._meta.concrete_fields if f.is_relation and f.name in attrs
        ]
        errors = {
            name: [str(_("This belongs to another library."))]
            for name in foreign_relations(candidate, relations)
        }
        if errors:
            raise serializers.ValidationError(errors)
        self.full_clean(candidate)
        return attrs

    @staticmethod
    def full_clean(candidate: models.Model) -> None:
        exclude = [f.name for f in candidate._meta.concrete_fields if not f.editable]
        try:
            candidate.full_clean(exclude=exclude)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


# --- schema ------------------------------------------------------------------------------


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer ll_...` (core.api_auth) as an HTTP bearer scheme."""

    target_class = "lifeline.core.api_auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A personal API token: ll_..."}


ERROR_SCHEMA = {
    "type": "object",
    "description": 'Either {"detail": message} or {field: [messages]}.',
    "additionalProperties": True,
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: messages per field or parameter.",
    "401": "Not signed in, or the API token is invalid, expired or revoked.",
    "403": "Signed in, but the role does not allow this.",
    "404": "No such record, or it belongs to a library the user cannot see.",
}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document the error replies every operation can give,
    so that a schema fuzzer's conformance checks hold for 4xx replies too."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for component in schemas.values():
        for name, prop in list(component.get("properties", {}).items()):
            # drf-spectacular documents a writable blank URL or e-mail as "URI or empty", but not a
            # read-only one: an unfilled homepage ("") would then break the response's schema.
            if prop.get("readOnly") and prop.get("format") in {"uri", "email"}:
                inner = {
                    k: v for k, v in prop.items() if k not in {"readOnly", "title", "description"}
                }
                outer = {k: v for k, v in prop.items() if k in {"readOnly", "title", "description"}}
                component["properties"][name] = {
                    **outer,
                    "oneOf": [inner, {"type": "string", "maxLength": 0}],
                }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, text in ERROR_DESCRIPTIONS.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
