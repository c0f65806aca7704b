"""Core API, mounted at /api/core/: libraries, the user's own roles, API tokens, the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from lifeline.core import audit
from lifeline.core.api_base import (
    LibraryRolePermission,
    LibraryScopedReadOnlyViewSet,
    Pagination,
    QueryFilter,
    QueryParamFilter,
)
from lifeline.core.choices import AuditAction
from lifeline.core.models import ApiToken, AuditLog, Library
from lifeline.core.permissions import is_staff_anywhere
from lifeline.core.serializers import (
    ApiTokenSerializer,
    AuditLogSerializer,
    LibrarySerializer,
    MeSerializer,
    NewApiTokenSerializer,
)

router = SimpleRouter()


class LibraryViewSet(viewsets.ReadOnlyModelViewSet):
    """The libraries where the user holds a staff role (all of them for a superuser)."""

    serializer_class = LibrarySerializer
    pagination_class = Pagination
    permission_classes = [LibraryRolePermission]  # staff only: a patron is told 403 (issue 21)
    filter_backends = [QueryParamFilter]
    query_filters = {"code": QueryFilter("code", "str", _("Library code."))}

    def get_queryset(self) -> QuerySet[Library]:
        return Library.objects.restrict(self.request.user).order_by("code")


class MeView(APIView):
    """The signed-in user, with a staff role per library and a patron record if any."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class StaffOnly(permissions.BasePermission):
    message = _("API tokens are for library staff.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user and request.user.is_authenticated and is_staff_anywhere(request.user)
        )


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The user's own API tokens. Creating one shows it once; deleting revokes it (row kept)."""

    queryset = ApiToken.objects.none()  # typing the {id} path parameter; get_queryset narrows
    permission_classes = [StaffOnly]
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[ApiToken]:
        # StaffOnly admits signed-in users only; an anonymous request never gets this far.
        return ApiToken.objects.filter(user_id=self.request.user.pk or -1).order_by(
            "-created_at", "-pk"
        )

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return NewApiTokenSerializer if self.action == "create" else ApiTokenSerializer

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A leaked token must not be able to mint fresh ones that outlive its revocation.
        if isinstance(request.auth, ApiToken):
            raise PermissionDenied(_("Sign in with a password to create API tokens."))
        serializer = ApiTokenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        token, secret = ApiToken.issue(
            request.user,
            serializer.validated_data["name"],
            serializer.validated_data.get("expires_at"),
        )
        audit.write(AuditAction.ACTION, token, message=f"API token {token.prefix}… created")
        data = NewApiTokenSerializer(token).data
        data["token"] = secret
        return Response(data, status=201)

    def perform_destroy(self, instance: ApiToken) -> None:
        instance.revoke()
        audit.write(AuditAction.ACTION, instance, message=f"API token {instance.prefix}… revoked")


class AuditLogViewSet(LibraryScopedReadOnlyViewSet):
    """Who changed what in the user's libraries, newest first."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    ordering_fields = ["at", "model", "action"]
    ordering = ["-at", "-pk"]
    query_filters = {
        "library": QueryFilter("library_id", "int", _("Library id.")),
        "model": QueryFilter("model", "str", _("Model label, e.g. registry.Resource.")),
        "object_pk": QueryFilter("object_pk", "str", _("Id of the changed record.")),
        "action": QueryFilter("action", "str", _("Kind of change."), tuple(AuditAction.values)),
        "actor": QueryFilter("actor__icontains", "str", _("Part of the actor's name.")),
        "since": QueryFilter("at__gte", "datetime", _("At or after this time.")),
        "until": QueryFilter("at__lt", "datetime", _("Before this time.")),
    }


router.register("libraries", LibraryViewSet, basename="library")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("audit", AuditLogViewSet, basename="audit")
