"""API routes of the Access health app, registered on the shared router in lifeline/api_urls.py."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.core.permissions import user_can
from lifeline.health.models import Incident, IncidentEvent, ProbeConfig

router = SimpleRouter()


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentEvent
        fields = ["at", "kind", "text", "public"]


class IncidentSerializer(serializers.ModelSerializer):
    resource_key = serializers.CharField(source="resource.key", read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "resource",
            "resource_key",
            "route",
            "kind",
            "status",
            "cause",
            "failure",
            "opened_at",
            "acknowledged_at",
            "closed_at",
            "events",
        ]


class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Incidents of the libraries where the caller holds a staff role."""

    serializer_class = IncidentSerializer
    # A patron is told 403, not given an empty list (issue 21).
    permission_classes = [LibraryRolePermission]
    change_action = "health.change"

    def get_queryset(self) -> QuerySet[Incident]:
        qs = (
            Incident.objects.restrict(self.request.user)
            .select_related("resource")
            .prefetch_related("events")
        )
        status = self.request.query_params.get("status")
        return qs.filter(status=status) if status else qs


class ProbeConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProbeConfig
        fields = ["id", "route", *ProbeConfig.SETTINGS_FIELDS, *ProbeConfig.STATE_FIELDS]
        # allow_private is granted by an admin through the page that records who allowed it.
        read_only_fields = ["route", "allow_private", *ProbeConfig.STATE_FIELDS]


class ProbeConfigViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Probe settings and state per route; changing them needs `health.change`.
    Allowing an internal target is done on the staff page, by an administrator."""

    serializer_class = ProbeConfigSerializer
    permission_classes = [LibraryRolePermission]
    change_action = "health.change"

    def get_queryset(self) -> QuerySet[ProbeConfig]:
        return (
            ProbeConfig.objects.restrict(self.request.user)
            .select_related("route__resource")
            .order_by("pk")
        )

    def perform_update(self, serializer: Any) -> None:
        if not user_can(
            self.request.user, serializer.instance.route.resource.library_id, "health.change"
        ):
            raise PermissionDenied
        serializer.save()


router.register("incidents", IncidentViewSet, basename="health-incident")
router.register("probes", ProbeConfigViewSet, basename="health-probe")
