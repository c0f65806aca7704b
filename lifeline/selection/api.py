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
from lifeline.core.permissions import library_ids_for, user_can
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus, Reason, ShipStatus
from lifeline.selection.logic import requests as logic
from lifeline.selection.models import Campaign, HomeDelivery, Recommendation, Title

DELIVER = "selection.deliver"

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


class HomeDeliverySerializer(serializers.ModelSerializer[HomeDelivery]):
    holding = serializers.IntegerField(
        source="holding_id", required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )
    title = serializers.CharField(max_length=800, required=False, allow_blank=True)

    class Meta:
        model = HomeDelivery
        fields = [
            "id",
            "holding",
            "title",
            "call_number",
            "recipient",
            "phone",
            "address",
            "status",
            "courier",
            "tracking_no",
            "return_tracking_no",
            "created_at",
            "shipped_at",
            "received_at",
            "closed_at",
        ]
        read_only_fields = [
            "call_number",
            "status",
            "courier",
            "tracking_no",
            "return_tracking_no",
            "created_at",
            "shipped_at",
            "received_at",
            "closed_at",
        ]
        # The address is kept only while the book is out, and never sent back out by the API.
        extra_kwargs = {
            "recipient": {"write_only": True},
            "phone": {"write_only": True},
            "address": {"write_only": True},
        }


class MoveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ShipStatus.choices)
    tracking_no = serializers.CharField(max_length=60, required=False, allow_blank=True)
    courier = serializers.CharField(max_length=60, required=False, allow_blank=True)


class HomeDeliveryViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Home delivery of print books (送书服务): a patron asks for a held book, follows it and
    confirms receipt; the delivery desk moves it along with the courier's tracking number."""

    serializer_class = HomeDeliverySerializer

    def get_queryset(self) -> QuerySet[HomeDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return HomeDelivery.objects.none()
        user = self.request.user
        qs = HomeDelivery.objects.order_by("-created_at", "-id")
        if user.is_superuser:
            return qs
        return qs.filter(Q(user=user) | Q(library_id__in=library_ids_for(user, DELIVER)))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        shape = HomeDeliverySerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        patron = (
            Patron.objects.select_related("library")
            .filter(user_id=int(request.user.pk or 0))
            .first()
        )
        if patron is None:
            raise ValidationError({"detail": "only patrons ask for home delivery"})
        data = shape.validated_data
        try:
            d = logic.request_delivery(
                patron.library,
                request.user,
                holding_id=data.get("holding_id"),
                title=data.get("title", ""),
                recipient=data.get("recipient", ""),
                phone=data.get("phone", ""),
                address=data.get("address", ""),
            )
        except DjangoValidationError as exc:
            raise _errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise NotFound from exc
        return Response(HomeDeliverySerializer(d).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses=HomeDeliverySerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        d = self.get_object()
        shape = MoveSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        new = shape.validated_data["status"]
        staff = user_can(request.user, d.library, DELIVER)
        if not logic.may_move_delivery(request.user, d, new, staff=staff):
            raise NotFound
        if not staff and new == ShipStatus.CANCELLED and d.status != ShipStatus.REQUESTED:
            raise ValidationError({"status": "the book has left the shelf"})
        try:
            d = logic.move_delivery(
                d,
                new,
                request.user,
                tracking_no=shape.validated_data.get("tracking_no", ""),
                courier=shape.validated_data.get("courier", ""),
            )
        except DjangoValidationError as exc:
            raise _errors(exc) from exc
        return Response(HomeDeliverySerializer(d).data)


router.register("campaigns", CampaignViewSet, basename="selection-campaign")
router.register("recommendations", RecommendationViewSet, basename="selection-recommendation")
router.register("home-deliveries", HomeDeliveryViewSet, basename="selection-home-delivery")
