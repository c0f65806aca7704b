"""API of document delivery: file and read requests (`/api/delivery/requests/`).

POST is idempotent with an `Idempotency-Key` header: a retried POST returns the first request (200)
instead of filing a second one (201). Patrons file for their own library; staff see their libraries.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.models import Library, Patron
from lifeline.core.permissions import library_ids_for
from lifeline.delivery import services
from lifeline.delivery.choices import DocType
from lifeline.delivery.models import DeliveryRequest

router = SimpleRouter()


class DeliveryRequestSerializer(serializers.Serializer):
    """Explicit fields (not a ModelSerializer): intake is the hot path, built for hundreds per
    second.
    """

    id = serializers.IntegerField(read_only=True)
    library = serializers.CharField(required=False, write_only=True, max_length=32)
    # A CharField, checked by services.normalise_fields: a ChoiceField deep-copies its lazy labels
    # per request.
    doc_type = serializers.CharField(max_length=20, default=DocType.FOREIGN_ARTICLE)
    title = serializers.CharField(max_length=1000)
    authors = serializers.CharField(max_length=500, required=False, allow_blank=True)
    source = serializers.CharField(max_length=500, required=False, allow_blank=True)
    year = serializers.IntegerField(min_value=1400, max_value=2100, required=False, allow_null=True)
    volume = serializers.CharField(max_length=40, required=False, allow_blank=True)
    issue = serializers.CharField(max_length=40, required=False, allow_blank=True)
    pages = serializers.CharField(max_length=40, required=False, allow_blank=True)
    doi = serializers.CharField(max_length=200, required=False, allow_blank=True)
    isbn = serializers.CharField(max_length=20, required=False, allow_blank=True)
    issn = serializers.CharField(max_length=12, required=False, allow_blank=True)
    pmid = serializers.CharField(max_length=20, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    status = serializers.CharField(read_only=True)
    deflection_url = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True)


class DeliveryRequestViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeliveryRequestSerializer

    def get_queryset(self) -> QuerySet[DeliveryRequest]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return DeliveryRequest.objects.none()
        user = self.request.user
        if user.is_superuser:
            return DeliveryRequest.objects.select_related("library").order_by("-created_at", "-id")
        staff_libs = library_ids_for(user)
        return (
            DeliveryRequest.objects.filter(Q(patron=user) | Q(library_id__in=staff_libs))
            .select_related("library")
            .order_by("-created_at", "-id")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        library = self._library(request, data.pop("library", ""))
        try:
            req, created = services.submit(
                library,
                data,
                patron=request.user,
                idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
                channel="api",
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(
            self.get_serializer(req).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _library(self, request: Request, code: str) -> Library:
        # One query for the patron and their library; it also fills user.patron for the contact
        # copy.
        patron = Patron.objects.select_related("library").filter(user=request.user).first()
        if patron is not None:
            request.user.patron = patron
        if code:
            lib = patron.library if patron is not None and patron.library.code == code else None
            if lib is None:
                lib = Library.objects.filter(
                    code=code, pk__in=library_ids_for(request.user)
                ).first()
            if lib is None:
                raise ValidationError({"library": "unknown library"})
            return lib
        if patron is None:
            raise ValidationError({"library": "give the library code"})
        return patron.library


router.register("requests", DeliveryRequestViewSet, basename="delivery-request")
