"""API of thesis deposit.

- `/api/theses/theses/`: theses (a student sees their own, staff their libraries'); staff with
  `theses.review` approve (`POST .../{id}/approve/`) or return (`POST .../{id}/return/`).
- `/api/theses/cleared/?library=<code>&year=<yyyy>`: the graduate school's list of cleared
  students, paged (any staff role of the library; a token of a graduate-school account with the
  leadership-viewer role is enough; a patron is told 403).
- `/api/theses/verify/<serial>/?s=<signature>`: the public receipt check, as JSON.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.core.models import Library
from lifeline.core.pagination import Pagination
from lifeline.core.params import IdField
from lifeline.core.permissions import library_ids_for, user_can
from lifeline.theses import services
from lifeline.theses.choices import ReturnReason
from lifeline.theses.logic import checks as pdfchecks
from lifeline.theses.logic import exports
from lifeline.theses.models import Receipt, Thesis

router = SimpleRouter()


class ThesisSerializer(serializers.ModelSerializer[Thesis]):
    library = serializers.CharField(source="library.code", read_only=True)
    failed_checks = serializers.SerializerMethodField()

    class Meta:
        model = Thesis
        fields = [
            "id",
            "library",
            "student_number",
            "author",
            "author_en",
            "title",
            "title_en",
            "college",
            "degree_level",
            "degree_type",
            "discipline_code",
            "supervisor",
            "confidentiality",
            "release_date",
            "status",
            "submitted_at",
            "approved_at",
            "failed_checks",
        ]
        read_only_fields = fields

    def get_failed_checks(self, obj: Thesis) -> list[dict[str, Any]]:
        # The versions are prefetched by the viewset: the latest is picked here, not queried.
        versions = list(obj.versions.all())
        version = max(versions, key=lambda v: v.number) if versions else None
        return pdfchecks.failures(version.checks) if version else []


class ReturnSerializer(serializers.Serializer):
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=ReturnReason.choices), required=False
    )
    text = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ThesisViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ThesisSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Thesis]:
        if getattr(self, "swagger_fake_view", False):
            return Thesis.objects.none()
        user = self.request.user
        qs = Thesis.objects.select_related("library").prefetch_related("versions")
        if not user.is_superuser:
            qs = qs.filter(Q(user=user) | Q(library_id__in=library_ids_for(user)))
        return qs.order_by("-submitted_at", "-id")

    def _reviewable(self, pk: Any) -> Thesis:
        thesis = get_object_or_404(self.get_queryset(), pk=pk)
        if not user_can(self.request.user, thesis.library, services.REVIEW):
            raise PermissionDenied
        return thesis

    @extend_schema(request=None, responses={200: ThesisSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        thesis = self._reviewable(pk)
        try:
            services.approve(thesis, request.user)
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from exc
        thesis.refresh_from_db()
        return Response(ThesisSerializer(thesis).data)

    @extend_schema(request=ReturnSerializer, responses={200: ThesisSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: Any = None) -> Response:
        thesis = self._reviewable(pk)
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.return_thesis(
                thesis,
                request.user,
                body.validated_data.get("reasons", []),
                body.validated_data.get("text", ""),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from exc
        thesis.refresh_from_db()
        return Response(ThesisSerializer(thesis).data)


class ClearedSerializer(serializers.Serializer):
    student_number = serializers.CharField()
    name = serializers.CharField()
    college = serializers.CharField()
    degree_level = serializers.CharField()
    degree_type = serializers.CharField()
    discipline_code = serializers.CharField()
    title = serializers.CharField()
    receipt_serial = serializers.CharField()
    approved = serializers.CharField()


class ClearedViewSet(viewsets.GenericViewSet):
    # Staff only: a patron is told 403, not 404 (issue 21); another library's staff get 404.
    permission_classes = [LibraryRolePermission]
    change_action = services.REVIEW
    serializer_class = ClearedSerializer
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("library", str, required=True),
            OpenApiParameter("year", int, required=False),
        ],
        responses={200: ClearedSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        code = request.query_params.get("library", "")
        library = Library.objects.filter(code=code).first()
        if library is None or not user_can(request.user, library):
            raise NotFound
        rows = self.paginate_queryset(exports.cleared(library, _year(request))) or []
        serials = dict(
            Receipt.objects.filter(thesis__in=rows, revoked_at__isnull=True).values_list(
                "thesis_id", "serial"
            )
        )
        data = [
            {
                "student_number": t.student_number,
                "name": t.author,
                "college": t.college,
                "degree_level": t.degree_level,
                "degree_type": t.degree_type,
                "discipline_code": t.discipline_code,
                "title": t.title,
                "receipt_serial": serials.get(t.pk, ""),
                "approved": t.approved_at.date().isoformat() if t.approved_at else "",
            }
            for t in rows
        ]
        return self.get_paginated_response(data)


def _year(request: Request) -> int | None:
    """`?year=`: a graduation year, or None for anything else ("²", 10**30, 0)."""
    try:
        return IdField(max_value=9999).clean(request.query_params.get("year"))
    except DjangoValidationError:
        return None


class VerifySerializer(serializers.Serializer):
    state = serializers.CharField()
    serial = serializers.CharField()
    content = serializers.DictField(allow_null=True)


class VerifyViewSet(viewsets.ViewSet):
    """Public: anyone may check a receipt (no sign-in)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    lookup_value_regex = "[A-Za-z0-9-]{1,40}"

    @extend_schema(
        parameters=[OpenApiParameter("s", str, required=True, description="The signature.")],
        responses={200: VerifySerializer},
    )
    def retrieve(self, request: Request, pk: str = "") -> Response:
        result = services.verify(pk, request.query_params.get("s", ""))
        content = result.content if result.state in ("valid", "revoked") else None
        return Response({"state": result.state, "serial": pk, "content": content})


router.register("theses", ThesisViewSet, basename="theses-thesis")
router.register("cleared", ClearedViewSet, basename="theses-cleared")
router.register("verify", VerifyViewSet, basename="theses-verify")
