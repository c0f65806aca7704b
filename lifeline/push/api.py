"""API of push: a library's announcements (staff: read, write, publish) and its subscriptions
(staff: read counts and state, never addresses in bulk)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.push.logic import publish
from lifeline.push.models import Announcement, Subscriber

router = SimpleRouter()
PUBLISH = "push.publish"


class AnnouncementSerializer(serializers.ModelSerializer[Announcement]):
    library = serializers.SlugRelatedField(slug_field="code", queryset=Library.objects.all())

    class Meta:
        model = Announcement
        fields = [
            "id",
            "library",
            "topic",
            "title",
            "title_en",
            "body",
            "body_en",
            "state",
            "publish_at",
            "expires_at",
            "published_at",
            "send_email",
            "send_robots",
            "plan_task_key",
            "emergency_event_id",
            "emergency_task_id",
            "views",
        ]
        read_only_fields = [
            "state",
            "published_at",
            "emergency_event_id",
            "emergency_task_id",
            "views",
        ]


class AnnouncementViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet[Announcement],
):
    """Announcements of the caller's libraries. Bodies are sanitised on save, as on the page."""

    serializer_class = AnnouncementSerializer
    permission_classes = [LibraryRolePermission]
    change_action = PUBLISH

    def get_queryset(self) -> QuerySet[Announcement]:
        return Announcement.objects.restrict(self.request.user).select_related("library")

    def _save(self, serializer: Any) -> None:
        library = serializer.validated_data.get("library") or serializer.instance.library
        if not user_can(self.request.user, library, PUBLISH):
            raise PermissionDenied
        ann = Announcement(**{**serializer.validated_data})
        if serializer.instance is not None:
            ann = serializer.instance
            for key, value in serializer.validated_data.items():
                setattr(ann, key, value)
        try:
            serializer.instance = publish.save_announcement(ann, user=self.request.user)
        except Exception as exc:  # full_clean's ValidationError
            raise serializers.ValidationError(getattr(exc, "message_dict", str(exc))) from exc

    def perform_create(self, serializer: Any) -> None:
        self._save(serializer)

    def perform_update(self, serializer: Any) -> None:
        self._save(serializer)

    @extend_schema(request=None, responses=AnnouncementSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        ann = self.get_object()
        try:
            ann = publish.publish(ann, user=request.user)
        except publish.PublishError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AnnouncementSerializer(ann).data)


class SubscriberSerializer(serializers.ModelSerializer[Subscriber]):
    library = serializers.CharField(source="library.code", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Subscriber
        # No address: a list of 50,000 addresses is not what a staff token should hand out.
        fields = ["id", "library", "topics", "language", "created_at", "confirmed_at",
                  "unsubscribed_at", "is_active"]  # fmt: skip


class SubscriberViewSet(viewsets.ReadOnlyModelViewSet[Subscriber]):
    serializer_class = SubscriberSerializer
    permission_classes = [LibraryRolePermission]

    def get_queryset(self) -> QuerySet[Subscriber]:
        return Subscriber.objects.restrict(self.request.user).select_related("library")


router.register("announcements", AnnouncementViewSet, basename="push-announcement")
router.register("subscriptions", SubscriberViewSet, basename="push-subscription")
