"""API of document delivery: file and read requests (`/api/delivery/requests/`).

POST is idempotent with an `Idempotency-Key` header: a retried POST returns the first request (200)
instead of filing a second one (201). Patrons file for their own library; staff see their libraries.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db import router as db_router
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core import rows
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
    # The metaclass takes declared fields off the class, so this does not shadow `Field.source`.
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=500, required=False, allow_blank=True
    )
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


# One instance, its fields built once: intake validates and answers through it without copying the
# field set per request (a serializer deep-copies its declared fields on first use). Both calls
# below keep no state on the instance, so threads share it safely.
_SHAPE = DeliveryRequestSerializer()
_SHAPE.fields  # noqa: B018 - built here, before threads share it


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

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any string of up to 100 characters: sending the same key again "
                "returns the first request instead of filing a second.",
            )
        ],
        responses={
            201: DeliveryRequestSerializer,
            200: OpenApiResponse(
                DeliveryRequestSerializer,
                description="The same request again (same Idempotency-Key, or the patron's open "
                "request for the same item): the first request, nothing new filed.",
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The shared serializer's own field checks, without building a serializer per request.
        data = _SHAPE.to_internal_value(request.data)
        library = self._library(request, data.pop("library", ""))
        key = request.headers.get("Idempotency-Key", "")[:100]
        if "\x00" in key:  # PostgreSQL refuses NUL in text: a 400 here, not a 500 there
            raise ValidationError({"Idempotency-Key": [_("A NUL character is not allowed.")]})
        try:
            req, created = services.submit(
                library, data, patron=request.user, idempotency_key=key, channel="api"
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        if not created and req.patron_id != request.user.pk:
            # Another person's key: their request is theirs to see, not a replay for this one.
            raise ValidationError({"Idempotency-Key": [_("This key was already used.")]})
        return Response(
            _SHAPE.to_representation(req),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _library(self, request: Request, code: str) -> Library:
        patron = patron_of(request.user)
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


_PATRON_SQL: dict[str, str] = {}


def patron_of(user: Any) -> Patron | None:
    """The user's patron record with its library, in one hand-written query (see
    lifeline/core/rows.py), cached on the user (also when there is none) for the contact copy."""
    conn = connections[db_router.db_for_read(Patron)]
    if conn.vendor not in _PATRON_SQL:
        qn = conn.ops.quote_name
        columns = f"{rows.select_list(Patron, 'p', qn)}, {rows.select_list(Library, 'l', qn)}"
        tables = f"{qn(Patron._meta.db_table)} p JOIN {qn(Library._meta.db_table)} l"
        _PATRON_SQL[conn.vendor] = (
            f"SELECT {columns} FROM {tables} ON l.{qn('id')} = p.{qn('library_id')} "  # noqa: S608
            f"WHERE p.{qn('user_id')} = %s"
        )
    with conn.cursor() as cur:
        cur.execute(_PATRON_SQL[conn.vendor], [user.pk])
        row = cur.fetchone()
    patron = None
    if row is not None:
        patron, patron.library = rows.instances((Patron, Library), conn, row)
        patron.user = user
    # Cached even when None, so `user.patron` later asks the database nothing.
    Patron.user.field.remote_field.set_cached_value(user, patron)
    return patron


router.register("requests", DeliveryRequestViewSet, basename="delivery-request")
