"""API of cloud book selection (`/api/selection/`): campaigns, their titles and votes, and
reader recommendations. Patrons see their own library's open campaigns and their own
recommendations; staff see their libraries'. Another library's campaign is a 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.models import Patron
from lifeline.core.permissions import library_ids_for
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus, Reason
from lifeline.selection.logic import requests as logic
from lifeline.selection.models import Campaign, Recommendation, Title

router = SimpleRouter()


def _errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    library = serializers.CharField(source="library.code", read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "library", "name", "name_en", "starts_on", "ends_on", "status", "budget"]


class TitleSerializer(serializers.ModelSerializer[Title]):
    class Meta:
        model = Title
        fields = [
            "id",
            "isbn",
            "title",
            "author",
            "publisher",
            "year",
            "price",
            "clc",
            "clc_class",
            "status",
        ]


class VoteSerializer(serializers.Serializer):
    title = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Reason.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        user = self.request.user
        qs = Campaign.objects.select_related("library").order_by("-starts_on", "-id")
        if user.is_superuser:
            return qs
        patron = Patron.objects.filter(user_id=int(user.pk or 0)).first()
        mine = Q(library_id__in=library_ids_for(user))
        if patron is not None:
            mine |= Q(library_id=patron.library_id, status=CampaignStatus.OPEN)
        return qs.filter(mine)

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Title, author or publisher contains"),
            OpenApiParameter("cls", str, description="CLC top class letter"),
        ],
        responses=TitleSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def titles(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        qs = services.campaign_titles(campaign).order_by("catalogue_id", "position")
        cls = str(request.query_params.get("cls", ""))[:1].upper()
        q = str(request.query_params.get("q", ""))[:200].strip()
        if cls:
            qs = qs.filter(clc_class=cls)
        if q:
            qs = qs.filter(
                Q(title__icontains=q) | Q(author__icontains=q) | Q(publisher__icontains=q)
            )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(TitleSerializer(page, many=True).data)

    @extend_schema(request=VoteSerializer, responses={201: VoteSerializer})
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        shape = VoteSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        try:
            services.vote(
                campaign, request.user, data["title"], data["reason"], data.get("note", "")
            )
        except DjangoPermissionDenied as exc:
            raise NotFound from exc
        except DjangoValidationError as exc:
            raise _errors(exc) from exc
        return Response(shape.data, status=status.HTTP_201_CREATED)


class RecommendationSerializer(serializers.ModelSerializer[Recommendation]):
    citation = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    title = serializers.CharField(max_length=800, required=False, allow_blank=True)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "isbn",
            "title",
            "author",
            "publisher",
            "citation",
            "note",
            "status",
            "answer",
            "created_at",
            "closed_at",
        ]
        read_only_fields = ["status", "answer", "created_at", "closed_at"]
        extra_kwargs = {"isbn": {"max_length": 40, "required": False, "allow_blank": True}}


class RecommendationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RecommendationSerializer

    def get_queryset(self) -> QuerySet[Recommendation]:
        if getattr(self, "swagger_fake_view", False):
            return Recommendation.objects.none()
        user = self.request.user
        qs = Recommendation.objects.order_by("-created_at", "-id")
        if user.is_superuser:
            return qs
        return qs.filter(Q(user=user) | Q(library_id__in=library_ids_for(user, "selection.manage")))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        shape = RecommendationSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        patron = (
            Patron.objects.select_related("library")
            .filter(user_id=int(request.user.pk or 0))
            .first()
        )
        if patron is None:
            raise ValidationError({"detail": "only patrons recommend books"})
        try:
            rec = logic.recommend(patron.library, request.user, **shape.validated_data)
        except DjangoValidationError as exc:
            raise _errors(exc) from exc
        return Response(RecommendationSerializer(rec).data, status=status.HTTP_201_CREATED)


router.register("campaigns", CampaignViewSet, basename="selection-campaign")
router.register("recommendations", RecommendationViewSet, basename="selection-recommendation")
