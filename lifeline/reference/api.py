"""API of the reference desk: the tickets a user's libraries see (their own and those
transferred to them), with their messages; staff answer and write notes through it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.core.permissions import user_can
from lifeline.reference import services
from lifeline.reference.models import Message, Ticket

router = SimpleRouter()
ANSWER = "reference.answer"


class MessageSerializer(serializers.ModelSerializer[Message]):
    class Meta:
        model = Message
        fields = ["id", "kind", "channel", "body", "created_at"]


class TicketSerializer(serializers.ModelSerializer[Ticket]):
    library = serializers.CharField(source="library.code", read_only=True)
    handling_library = serializers.CharField(
        source="handling_library.code", read_only=True, default=None
    )
    tags: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "library",
            "handling_library",
            "channel",
            "state",
            "subject",
            "assignee",
            "tags",
            "created_at",
            "first_response_due",
            "first_response_at",
            "answered_at",
            "closed_at",
            "close_reason",
            "first_response_minutes",
            "resolution_minutes",
            "rating",
        ]


class TicketDetailSerializer(TicketSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]


class BodySerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=20000)
    waiting = serializers.BooleanField(required=False, default=False)


class TicketViewSet(viewsets.ReadOnlyModelViewSet[Ticket]):
    permission_classes = [LibraryRolePermission]
    change_action = ANSWER

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def get_queryset(self) -> QuerySet[Ticket]:
        qs = (
            Ticket.objects.restrict(self.request.user)
            .select_related("library", "handling_library")
            .prefetch_related("tags")
            .order_by("-pk")
        )
        if self.action == "retrieve":
            qs = qs.prefetch_related("messages")
        return qs

    def _in_charge(self, ticket: Ticket) -> None:
        library = ticket.handling_library or ticket.library
        if not user_can(self.request.user, library, ANSWER):
            raise PermissionDenied

    @extend_schema(request=BodySerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        self._in_charge(ticket)
        data = BodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            message = services.answer(
                ticket,
                request.user,
                data.validated_data["body"],
                waiting=data.validated_data["waiting"],
            )
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BodySerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        data = BodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.add_note(ticket, request.user, data.validated_data["body"])
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


router.register("tickets", TicketViewSet, basename="reference-ticket")
