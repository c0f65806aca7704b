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

from lifeline.core.models import Library
from lifeline.core.permissions import library_ids_for
from lifeline.delivery import services
from lifeline.delivery.choices import DocType
from lifeline.delivery.models import DeliveryRequest

router = SimpleRouter()


class DeliveryRequestSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    doc_type = serializers.ChoiceField(choices=DocType.choices, default=DocType.FOREIGN_ARTICLE)

    class Meta:
        model = DeliveryRequest
        fields = ["id", "library", "doc_type", "title", "authors", "source", "year", "volume", "issue", "pages", "doi",
                  "isbn", "issn", "pmid", "note", "status", "deflection_url", "created_at", "due_at", "closed_at"]
        read_only_fields = ["status", "deflection_url", "created_at", "due_at", "closed_at"]


class DeliveryRequestViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):
    serializer_class = DeliveryRequestSerializer

    def get_queryset(self) -> QuerySet[DeliveryRequest]:
        user = self.request.user
        if user.is_superuser:
            return DeliveryRequest.objects.select_related("library").order_by("-created_at", "-id")
        staff_libs = library_ids_for(user)
        return DeliveryRequest.objects.filter(Q(patron=user) | Q(library_id__in=staff_libs)).select_related(
            "library").order_by("-created_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        library = self._library(request)
        try:
            req, created = services.submit(
                library, serializer.validated_data, patron=request.user,
                idempotency_key=request.headers.get("Idempotency-Key", "")[:100], channel="api",
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(self.get_serializer(req).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _library(self, request: Request) -> Library:
        code = request.data.get("library") if hasattr(request.data, "get") else None
        patron = getattr(request.user, "patron", None) if hasattr(request.user, "patron") else None
        if code:
            lib = Library.objects.filter(code=code).first()
            if lib is None or (patron is None or patron.library_id != lib.pk) and lib.pk not in library_ids_for(request.user):
                raise ValidationError({"library": "unknown library"})
            return lib
        if patron is None:
            raise ValidationError({"library": "give the library code"})
        return patron.library


router.register("requests", DeliveryRequestViewSet, basename="delivery-request")
