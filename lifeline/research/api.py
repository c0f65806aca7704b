"""API of research services: read citation report requests (`/api/research/requests/`) and
novelty searches (`/api/research/novelty/`), staff only, narrowed like the pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.routers import SimpleRouter

from lifeline.core.api_base import LibraryRolePermission
from lifeline.research.choices import Status
from lifeline.research.models import NoveltyDocument, NoveltyRequest, VerificationRequest

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


class NoveltyDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoveltyDocument
        fields = ["citation", "database", "relevance", "comparison"]
        read_only_fields = fields


class NoveltyRequestSerializer(serializers.ModelSerializer):
    library = serializers.CharField(source="library.code", read_only=True)
    documents = NoveltyDocumentSerializer(many=True, read_only=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = NoveltyRequest
        fields = [
            "id",
            "library",
            "serial",
            "status",
            "title",
            "title_en",
            "purpose",
            "scope",
            "keywords_zh",
            "keywords_en",
            "fee",
            "fee_status",
            "created_at",
            "due_at",
            "issued_at",
            "overdue",
            "conclusion",
            "documents",
        ]
        read_only_fields = fields


class NoveltyRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Novelty searches (科技查新) of the libraries where the user is staff, with the compared
    documents; `?status=` narrows to one workflow status. The patron's contact details stay
    on the staff pages."""

    serializer_class = NoveltyRequestSerializer
    permission_classes = [LibraryRolePermission]
    change_action = "research.change"

    def get_queryset(self) -> QuerySet[NoveltyRequest]:
        rows = (
            NoveltyRequest.objects.restrict(self.request.user, "view")
            .select_related("library")
            .prefetch_related("documents")
        )
        status = self.request.query_params.get("status", "")
        if status:
            if status not in Status.values:
                raise ValidationError({"status": _("Unknown status.")})
            rows = rows.filter(status=status)
        return rows


router.register("novelty", NoveltyRequestViewSet, basename="research-novelty")
