"""API of the knowledge base: staff read and write their libraries' articles
(`/api/knowledge/articles/`, each save a new version); anyone searches a library's help centre
(`/api/knowledge/public/<code>/search/?q=`), seeing what their audience allows, each answer with
the passage that answers it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from lifeline.core.access import PUBLIC, library_for
from lifeline.core.api_base import LibraryScopedSerializer, LibraryScopedViewSet, QueryFilter
from lifeline.knowledge import services
from lifeline.knowledge.choices import Audience
from lifeline.knowledge.models import Article

router = SimpleRouter()
SLUG = r"[-a-zA-Z0-9_]+"
MAX_RESULTS = 20


class ArticleSerializer(LibraryScopedSerializer):
    tags = serializers.CharField(required=False, allow_blank=True, max_length=500)

    class Meta:
        model = Article
        fields = [
            "id",
            "library",
            "language",
            "audience",
            "title",
            "body",
            "tags",
            "expires_at",
            "is_published",
            "resource",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["resource", "version", "created_at", "updated_at"]


FIELDS = ("title", "body", "tags", "language", "audience", "expires_at", "is_published")


class ArticleViewSet(LibraryScopedViewSet):
    """Articles of the user's libraries, staff-only ones included. Writing needs
    `knowledge.change`; the body is sanitised; articles written from the registry are read-only."""

    queryset = Article.objects.select_related("library")
    serializer_class = ArticleSerializer
    change_action = "knowledge.change"
    ordering_fields = ["updated_at", "title", "id"]
    ordering = ["-updated_at", "-id"]
    query_filters = {
        "library": QueryFilter("library_id", "int", _("Library id.")),
        "language": QueryFilter("language", "str", _("Language."), ("zh-hans", "en")),
        "audience": QueryFilter("audience", "str", _("Audience."), tuple(Audience.values)),
        "generated": QueryFilter(
            "resource__isnull", "bool", _("Written by hand (false) or from the registry (true).")
        ),
    }

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = services.create_article(
            data["library"], user=self.request.user, **{k: data[k] for k in FIELDS if k in data}
        )

    def perform_update(self, serializer: Any) -> None:
        if serializer.instance.resource_id:
            raise exceptions.ValidationError(
                {
                    "resource": [
                        _("This article is written from the registry; change the resource instead.")
                    ]
                }
            )
        data = serializer.validated_data
        serializer.instance = services.update_article(
            serializer.instance, user=self.request.user, **{k: data[k] for k in FIELDS if k in data}
        )


class AnswerSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    passage = serializers.CharField()
    score = serializers.FloatField()


class SearchResultSerializer(serializers.Serializer[Any]):
    query = serializers.CharField()
    results = AnswerSerializer(many=True)


class PublicSearchViewSet(viewsets.ViewSet):
    """Search one library's help centre: no sign-in needed for its public articles."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("library_code", str, OpenApiParameter.PATH, pattern=f"^{SLUG}$"),
            OpenApiParameter(
                "q", str, description="The question or keywords (500 characters at most)."
            ),
            OpenApiParameter("limit", int, description=f"At most {MAX_RESULTS}."),
        ],
        responses={200: SearchResultSerializer},
    )
    def list(self, request: Request, library_code: str = "") -> Response:
        try:
            library = library_for(request, library_code, PUBLIC)
        except (Http404, PermissionDenied) as exc:
            raise exceptions.NotFound from exc
        query = str(request.query_params.get("q", "")).replace("\x00", " ")[:500]
        try:
            limit = max(1, min(MAX_RESULTS, int(request.query_params.get("limit", "5"))))
        except ValueError:
            limit = 5
        results = []
        if query.strip():
            audiences = services.audiences_for(request.user, library)
            for article, hit in services.search_articles(library, query, audiences, limit):
                generated = article.resource_id is not None
                results.append(
                    {
                        "kind": "resource" if generated else "article",
                        "id": article.resource_id if generated else article.pk,
                        "title": article.title,
                        "url": services.article_url(article, library.code),
                        "passage": services.best_passage(article.body, hit.terms),
                        "score": hit.score,
                    }
                )
        return Response({"query": query, "results": results})


router.register("articles", ArticleViewSet, basename="knowledge-article")
router.register(
    rf"public/(?P<library_code>{SLUG})/search", PublicSearchViewSet, basename="knowledge-search"
)
