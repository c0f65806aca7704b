"""API at /api/emergency/: plans, events, tasks, with the same permissions as the pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryScopedReadOnlyViewSet
from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.emergency import services
from lifeline.emergency.choices import EventCategory, Level, TaskStatus
from lifeline.emergency.logic.document import PlanDocumentError, dump_yaml
from lifeline.emergency.models import Event, EventTask, Plan, TimelineEntry

router = SimpleRouter()


class EmergencyPlanSerializer(serializers.ModelSerializer):
    library: serializers.SlugRelatedField[Library] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    categories = serializers.ListField(
        source="category_list", child=serializers.CharField(), read_only=True
    )
    document = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "id",
            "library",
            "name",
            "name_en",
            "categories",
            "current_version",
            "is_default",
            "updated_at",
            "document",
        ]

    def get_document(self, obj: Plan) -> dict[str, Any]:
        return obj.latest().document


class EmergencyPlanImportSerializer(serializers.Serializer):
    library = serializers.SlugField()
    yaml = serializers.CharField(trim_whitespace=False)
    plan = serializers.IntegerField(
        required=False, help_text="Add a version to this plan instead of creating one."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class PlanViewSet(LibraryScopedReadOnlyViewSet):
    """Emergency plans; the document is the current version's content."""

    serializer_class = EmergencyPlanSerializer
    queryset = Plan.objects.select_related("library").prefetch_related("versions")
    change_action = "emergency.change"

    @extend_schema(request=EmergencyPlanImportSerializer, responses=EmergencyPlanSerializer)
    @action(detail=False, methods=["post"], url_path="import")
    def import_yaml(self, request: Request) -> Response:
        data = EmergencyPlanImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        library = get_object_or_404(Library, code=data.validated_data["library"])
        if not user_can(request.user, library, "emergency.change"):
            raise PermissionDenied
        plan = None
        if data.validated_data.get("plan"):
            plan = get_object_or_404(Plan, library=library, pk=data.validated_data["plan"])
        try:
            plan = services.import_yaml(
                library,
                data.validated_data["yaml"],
                plan=plan,
                user=request.user,
                note=data.validated_data.get("note", ""),
            )
        except PlanDocumentError as exc:
            return Response({"yaml": [str(exc)], "line": exc.line}, status=400)
        return Response(EmergencyPlanSerializer(plan).data, status=201)

    @extend_schema(responses={(200, "application/yaml"): str})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        plan = self.get_object()
        return HttpResponse(
            dump_yaml(plan.latest().document), content_type="application/yaml; charset=utf-8"
        )


class EmergencyTimelineSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="display_text")

    class Meta:
        model = TimelineEntry
        fields = ["at", "kind", "text", "actor", "task"]


class EmergencyTaskSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="display_title")
    team = serializers.CharField(source="display_team")

    class Meta:
        model = EventTask
        fields = [
            "id",
            "event",
            "team_key",
            "team",
            "key",
            "title",
            "section",
            "level",
            "due_at",
            "assignee",
            "assignee_name",
            "status",
            "done_at",
            "note",
        ]


class EmergencyEventSerializer(serializers.ModelSerializer):
    library: serializers.SlugRelatedField[Library] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    version = serializers.IntegerField(source="version.number", read_only=True)
    tasks = EmergencyTaskSerializer(many=True, read_only=True)
    timeline = EmergencyTimelineSerializer(many=True, read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "library",
            "plan",
            "version",
            "category",
            "level",
            "scope",
            "reason",
            "is_drill",
            "status",
            "declared_at",
            "closed_at",
            "close_note",
            "tasks",
            "timeline",
        ]


class EmergencyDeclareSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    category = serializers.ChoiceField(choices=EventCategory.choices)
    level = serializers.ChoiceField(choices=Level.choices)
    scope = serializers.CharField(max_length=300)
    reason = serializers.CharField(max_length=4000)
    drill = serializers.BooleanField(default=False)


class EmergencyLevelSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)


class EmergencyStandDownSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


def _may_lead(user: Any, event: Event) -> bool:
    return user_can(user, event.library_id, "emergency.declare") or (
        event.is_drill and user_can(user, event.library_id, "emergency.change")
    )


class EventViewSet(LibraryScopedReadOnlyViewSet):
    """Events (real and drills) with their tasks and timeline. Declaring needs `emergency.declare`
    (a drill: `emergency.change` too)."""

    serializer_class = EmergencyEventSerializer
    queryset = Event.objects.select_related("library", "version").prefetch_related(
        "tasks", "timeline"
    )
    change_action = "emergency.declare"

    def get_permissions(self) -> list[Any]:
        return (
            [permissions.IsAuthenticated()]
            if self.action in {"create", "level", "stand_down"}
            else list(super().get_permissions())
        )

    @extend_schema(request=EmergencyDeclareSerializer, responses=EmergencyEventSerializer)
    def create(self, request: Request) -> Response:
        data = EmergencyDeclareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        plan = get_object_or_404(Plan.objects.restrict(request.user), pk=v["plan"])
        needed = "emergency.declare" if not v["drill"] else None
        if needed and not user_can(request.user, plan.library_id, needed):
            raise PermissionDenied
        if v["drill"] and not (
            user_can(request.user, plan.library_id, "emergency.declare")
            or user_can(request.user, plan.library_id, "emergency.change")
        ):
            raise PermissionDenied
        try:
            event = services.declare(
                plan.library,
                plan,
                category=v["category"],
                level=v["level"],
                scope=v["scope"],
                reason=v["reason"],
                user=request.user,
                drill=v["drill"],
            )
        except services.EmergencyError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(EmergencyEventSerializer(self.queryset.get(pk=event.pk)).data, status=201)

    @extend_schema(request=EmergencyLevelSerializer, responses=EmergencyEventSerializer)
    @action(detail=True, methods=["post"])
    def level(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        if not _may_lead(request.user, event):
            raise PermissionDenied
        data = EmergencyLevelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.change_level(event, data.validated_data["level"], user=request.user)
        except services.EmergencyError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(EmergencyEventSerializer(self.queryset.get(pk=event.pk)).data)

    @extend_schema(request=EmergencyStandDownSerializer, responses=EmergencyEventSerializer)
    @action(detail=True, methods=["post"], url_path="stand-down")
    def stand_down(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        if not _may_lead(request.user, event):
            raise PermissionDenied
        data = EmergencyStandDownSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.stand_down(event, user=request.user, note=data.validated_data.get("note", ""))
        except services.EmergencyError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(EmergencyEventSerializer(self.queryset.get(pk=event.pk)).data)


class EmergencyTaskStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.NOT_DONE]
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    assignee = serializers.IntegerField(
        required=False, help_text="User id: hand the task to this staff member."
    )


class TaskViewSet(LibraryScopedReadOnlyViewSet):
    """Tasks of events. POST /update/ marks done / not done / open, or assigns (`assignee`)."""

    serializer_class = EmergencyTaskSerializer
    queryset = EventTask.objects.select_related("event")
    change_action = "emergency.change"

    def get_queryset(self) -> QuerySet[EventTask]:
        qs = super().get_queryset()
        event = self.request.query_params.get("event")
        return qs.filter(event_id=event) if event and event.isdigit() else qs

    def get_permissions(self) -> list[Any]:
        return (
            [permissions.IsAuthenticated()]
            if self.action == "update_task"
            else list(super().get_permissions())
        )

    @extend_schema(request=EmergencyTaskStatusSerializer, responses=EmergencyTaskSerializer)
    @action(detail=True, methods=["post"], url_path="update")
    def update_task(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        data = EmergencyTaskStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            if v.get("assignee"):
                lib = task.event.library_id
                if not (
                    user_can(request.user, lib, "emergency.change")
                    or user_can(request.user, lib, "emergency.declare")
                ):
                    raise PermissionDenied
                services.assign_task(
                    task,
                    get_user_model().objects.filter(pk=v["assignee"]).first(),
                    user=request.user,
                )
            if not services.may_work_on(task, request.user):
                raise PermissionDenied
            task = services.set_task_status(
                task, v["status"], user=request.user, note=v.get("note", "")
            )
        except services.EmergencyError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(EmergencyTaskSerializer(task).data)


router.register("plans", PlanViewSet, basename="emergency-plan")
router.register("events", EventViewSet, basename="emergency-event")
router.register("tasks", TaskViewSet, basename="emergency-task")
