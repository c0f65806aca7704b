"""API of outreach: events and sessions (staff, their libraries), and a patron's own quiz
attempts: `POST /api/outreach/attempts/<id>/answers/` stores answers as given, one or many per
call, so a client on a shaky connection can send each answer as it is chosen.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.outreach.logic import quizzes
from lifeline.outreach.models import Attempt, Event, Session

router = SimpleRouter()


class SessionSerializer(serializers.ModelSerializer[Session]):
    class Meta:
        model = Session
        fields = ["id", "starts_at", "ends_at", "location", "capacity", "registered"]


class EventSerializer(serializers.ModelSerializer[Event]):
    sessions = SessionSerializer(many=True, read_only=True)
    library = serializers.CharField(source="library.code", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "library", "kind", "title", "title_en", "online", "is_public", "sessions"]


class EventViewSet(viewsets.ReadOnlyModelViewSet[Event]):
    """Staff's list of their library's events; patrons use the pages and the iCalendar feed."""

    serializer_class = EventSerializer
    permission_classes = [LibraryRolePermission]

    def get_queryset(self) -> QuerySet[Event]:
        return (
            Event.objects.restrict(self.request.user)
            .select_related("library")
            .prefetch_related("sessions")
            .order_by("pk")
        )


class AttemptSerializer(serializers.ModelSerializer[Attempt]):
    class Meta:
        model = Attempt
        fields = [
            "id",
            "quiz",
            "number",
            "question_ids",
            "started_at",
            "deadline",
            "submitted_at",
            "score",
            "max_score",
        ]


class AnswersSerializer(serializers.Serializer[Any]):
    answers = serializers.DictField(
        child=serializers.JSONField(), help_text="question id → letter(s), T/F or text"
    )


class AttemptViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet[Attempt]
):
    serializer_class = AttemptSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Attempt]:
        # Only one's own papers: another patron's attempt is not found.
        return Attempt.objects.filter(user_id=self.request.user.pk or 0).order_by("pk")

    @extend_schema(request=AnswersSerializer, responses={200: AttemptSerializer})
    @action(detail=True, methods=["post"])
    def answers(self, request: Request, pk: str | None = None) -> Response:
        attempt = self.get_object()
        data = AnswersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers: dict[int, str | list[str]] = {}
        for key, value in data.validated_data["answers"].items():
            try:
                qid = int(key)
            except ValueError:
                continue
            if isinstance(value, list):
                answers[qid] = [str(v) for v in value][:10]
            else:
                answers[qid] = str(value)[:500]
        try:
            stored = quizzes.save_answers(attempt, request.user, answers)
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        return Response({"stored": stored})

    @extend_schema(request=None, responses={200: AttemptSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        attempt = quizzes.submit(self.get_object(), request.user)
        return Response(AttemptSerializer(attempt).data)


router.register("events", EventViewSet, basename="outreach-event")
router.register("attempts", AttemptViewSet, basename="outreach-attempt")
