"""Registry API: the public A–Z (read-only, anyone) and staff CRUD, mounted at /api/registry/."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import (
    LibraryScopedReadOnlyViewSet,
    LibraryScopedViewSet,
    Pagination,
    QueryFilter,
    QueryParamFilter,
)
from lifeline.core.models import Library, Patron
from lifeline.core.permissions import user_can
from lifeline.registry.choices import ContentType, Language, RouteKind
from lifeline.registry.io.identifiers import normalise_identifier
from lifeline.registry.models import AccessRoute, Category, KbartTitle, Resource, Vendor
from lifeline.registry.serializers import (
    AccessRouteSerializer,
    CategorySerializer,
    KbartTitleSerializer,
    PublicResourceDetailSerializer,
    PublicResourceSerializer,
    ResourceSerializer,
    VendorSerializer,
)

router = SimpleRouter()
AZ_CACHE_SECONDS = 300


def _search(qs: QuerySet[Any], text: str) -> QuerySet[Any]:
    return qs.search(text)  # type: ignore[attr-defined]


def _content_type(qs: QuerySet[Any], code: str) -> QuerySet[Any]:
    return qs.with_content_type(code)  # type: ignore[attr-defined]


def _works_from_home(qs: QuerySet[Any], on: bool) -> QuerySet[Any]:
    home = AccessRoute.objects.off_campus().values("resource_id")
    return qs.filter(pk__in=home) if on else qs.exclude(pk__in=home)


def _current(qs: QuerySet[Any], on: bool) -> QuerySet[Any]:
    current = AccessRoute.objects.current().values("pk")
    return qs.filter(pk__in=current) if on else qs.exclude(pk__in=current)


def _identifier(qs: QuerySet[Any], raw: str) -> QuerySet[Any]:
    # Stored identifiers are normalised by the importer (ISSN NNNN-NNNX, ISBN-13): normalise the
    # query the same way, so "10017488" and an ISBN-10 both find their title.
    normalised, _problem = normalise_identifier(raw)
    forms = {normalised} if normalised else {raw.strip().upper()}
    return qs.filter(Q(print_identifier__in=forms) | Q(online_identifier__in=forms))


LIBRARY_FILTER = QueryFilter("library_id", "int", _("Library id."))
Q_FILTER = QueryFilter(
    _search, "str", _("Words to find in names and descriptions (Chinese included).")
)
LANGUAGE_FILTER = QueryFilter(
    "language", "str", _("Chinese or foreign resources."), tuple(Language.values)
)
CONTENT_TYPE_FILTER = QueryFilter(
    _content_type, "str", _("Content type."), tuple(ContentType.values)
)
WFH_FILTER = QueryFilter(
    _works_from_home,
    "bool",
    _("Only resources with (or without) a route that works off campus today."),
)


# --- public A–Z ----------------------------------------------------------------------------

SLUG = r"[-a-zA-Z0-9_]+"  # Library.code and Resource.key are slugs
LIBRARY_CODE = OpenApiParameter(
    "library_code",
    str,
    OpenApiParameter.PATH,
    description="The library's code, e.g. nefu.",
    pattern=f"^{SLUG}$",
)
RESOURCE_KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description="The resource's key.", pattern=f"^{SLUG}$"
)


@extend_schema_view(
    list=extend_schema(
        parameters=[LIBRARY_CODE], summary="A–Z list of a library's databases", tags=["public"]
    ),
    retrieve=extend_schema(
        parameters=[LIBRARY_CODE, RESOURCE_KEY],
        summary="How to reach one database",
        tags=["public"],
    ),
)
class PublicResourceViewSet(viewsets.ReadOnlyModelViewSet):
    """The patron A–Z, no sign-in needed. Shared accounts show only to the library's signed-in
    patrons and staff."""

    permission_classes = [permissions.AllowAny]
    lookup_field = "key"
    lookup_value_regex = SLUG
    filter_backends = [QueryParamFilter, OrderingFilter]
    pagination_class = Pagination
    ordering_fields = ["name", "name_en", "key"]
    ordering = ["name", "pk"]
    query_filters = {
        "language": LANGUAGE_FILTER,
        "category": QueryFilter("category_id", "int", _("Category id.")),
        "content_type": CONTENT_TYPE_FILTER,
        "works_from_home": QueryFilter(
            "works_from_home", "bool", _("Only resources that work (or not) from home today.")
        ),
        "q": Q_FILTER,
    }

    @cached_property
    def library(self) -> Library:
        return get_object_or_404(Library, code=self.kwargs.get("library_code", ""))

    def get_serializer_class(self) -> type[PublicResourceSerializer]:
        return (
            PublicResourceDetailSerializer
            if self.action == "retrieve"
            else PublicResourceSerializer
        )

    def get_queryset(self) -> QuerySet[Resource]:
        home = AccessRoute.objects.off_campus().filter(resource=OuterRef("pk"))
        qs = (
            Resource.objects.filter(library=self.library, is_active=True)
            .select_related("category")
            .annotate(works_from_home=Exists(home))
        )
        if self.action == "retrieve":
            return qs.select_related("library", "vendor", "parent").prefetch_related(
                "children",
                Prefetch("routes", queryset=AccessRoute.objects.order_by("priority", "pk")),
            )
        return qs.filter(parent__isnull=True)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The A–Z is what every patron asks for in an emergency, and it holds no account data: one
        # cached reply per query, keyed on the library's registry version (bumped by every change),
        # the day (routes start and end by date) and the language.
        key = "api-az:" + ":".join(
            [
                str(self.library.pk),
                self.library.registry_changed_at.isoformat(),
                timezone.localdate().isoformat(),
                get_language() or "",
                request.build_absolute_uri(),
            ]
        )
        data = cache.get(key)
        if data is None:
            data = super().list(request, *args, **kwargs).data
            cache.set(key, data, AZ_CACHE_SECONDS)
        return Response(data)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if "library_code" in self.kwargs:
            context["show_accounts"] = self.shows_accounts()
        return context

    def shows_accounts(self) -> bool:
        """The issue: a shared account and password show only to signed-in patrons (and staff)."""
        user = self.request.user
        if not user.is_authenticated:
            return False
        if user_can(user, self.library):
            return True
        return Patron.objects.filter(user=user, library=self.library).exists()


router.register(
    rf"public/(?P<library_code>{SLUG})/resources", PublicResourceViewSet, basename="public-resource"
)


# --- staff ---------------------------------------------------------------------------------


class VendorViewSet(LibraryScopedViewSet):
    """Vendors with their contacts (staff of the library)."""

    queryset = Vendor.objects.all()
    serializer_class = VendorSerializer
    change_action = "registry.change"
    ordering_fields = ["name", "key", "response_hours", "updated_at"]
    ordering = ["name", "pk"]
    query_filters = {
        "library": LIBRARY_FILTER,
        "key": QueryFilter("key", "str", _("Vendor key.")),
        "q": QueryFilter("name__icontains", "str", _("Part of the name.")),
    }


class CategoryViewSet(LibraryScopedViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    change_action = "registry.change"
    ordering_fields = ["language", "position", "name"]
    ordering = ["language", "position", "name", "pk"]
    query_filters = {"library": LIBRARY_FILTER, "language": LANGUAGE_FILTER}


class ResourceViewSet(LibraryScopedViewSet):
    """Databases and their sub-databases (a sub-database names its `parent`)."""

    queryset = Resource.objects.prefetch_related("children")
    serializer_class = ResourceSerializer
    change_action = "registry.change"
    ordering_fields = ["name", "key", "created_at", "updated_at", "subscription_end"]
    ordering = ["name", "pk"]
    query_filters = {
        "library": LIBRARY_FILTER,
        "key": QueryFilter("key", "str", _("Resource key.")),
        "language": LANGUAGE_FILTER,
        "category": QueryFilter("category_id", "int", _("Category id.")),
        "vendor": QueryFilter("vendor_id", "int", _("Vendor id.")),
        "parent": QueryFilter("parent_id", "int", _("Sub-databases of this resource.")),
        "top_level": QueryFilter(
            "parent__isnull", "bool", _("Only databases that are not sub-databases.")
        ),
        "content_type": CONTENT_TYPE_FILTER,
        "works_from_home": WFH_FILTER,
        "is_active": QueryFilter("is_active", "bool", _("Active or retired.")),
        "is_trial": QueryFilter("is_trial", "bool", _("Trials.")),
        "subscription_ends_before": QueryFilter(
            "subscription_end__lte", "date", _("Subscription ends on or before this date.")
        ),
        "q": Q_FILTER,
    }


class AccessRouteViewSet(LibraryScopedViewSet):
    """Access routes; technical support may change these but not the resources."""

    queryset = AccessRoute.objects.select_related("resource__library")
    serializer_class = AccessRouteSerializer
    change_action = "registry.change_routes"
    ordering_fields = ["priority", "kind", "ends_on", "updated_at"]
    ordering = ["resource_id", "priority", "pk"]
    query_filters = {
        "library": QueryFilter("resource__library_id", "int", _("Library id.")),
        "resource": QueryFilter("resource_id", "int", _("Resource id.")),
        "kind": QueryFilter("kind", "str", _("Kind of route."), tuple(RouteKind.values)),
        "is_active": QueryFilter("is_active", "bool", _("Active or switched off.")),
        "current": QueryFilter(_current, "bool", _("Usable today (active and within its dates).")),
        "ends_before": QueryFilter("ends_on__lte", "date", _("Ends on or before this date.")),
    }


class KbartTitleViewSet(LibraryScopedReadOnlyViewSet):
    """Title lists (KBART) of the resources; they change only through imports."""

    queryset = KbartTitle.objects.all()
    serializer_class = KbartTitleSerializer
    change_action = "registry.change"
    ordering_fields = ["publication_title", "date_first_issue_online", "date_last_issue_online"]
    ordering = ["publication_title", "pk"]
    query_filters = {
        "library": QueryFilter("resource__library_id", "int", _("Library id.")),
        "resource": QueryFilter("resource_id", "int", _("Resource id.")),
        "identifier": QueryFilter(_identifier, "str", _("Print or online ISSN/ISBN.")),
        "q": QueryFilter("publication_title__icontains", "str", _("Part of the title.")),
    }


router.register("vendors", VendorViewSet, basename="vendor")
router.register("categories", CategoryViewSet, basename="category")
router.register("resources", ResourceViewSet, basename="resource")
router.register("routes", AccessRouteViewSet, basename="route")
router.register("titles", KbartTitleViewSet, basename="title")
