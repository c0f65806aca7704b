"""API of research services: read citation report requests (`/api/research/requests/`)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.research.models import VerificationRequest

router = SimpleRouter()


class VerificationRequestSerializer(serializers.ModelSerializer):
    library = serializers.CharField(source="library.code", read_only=True)

    class Meta:
        model = VerificationRequest
        fields = [
            "id",
            "library",
            "serial",
            "status",
            "purpose",
            "databases",
            "created_at",
            "due_at",
            "issued_at",
        ]
        read_only_fields = fields


class VerificationRequestViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = VerificationRequestSerializer
    # Staff only: a patron is told 403, not given an empty list (issue 21).
    permission_classes = [LibraryRolePermission]
    change_action = "research.change"

    def get_queryset(self) -> QuerySet[VerificationRequest]:
        return VerificationRequest.objects.restrict(self.request.user, "view").select_related(
            "library"
        )


router.register("requests", VerificationRequestViewSet, basename="research-request")
