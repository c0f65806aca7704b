"""Knowledge-base articles, one row per saved version, and the "did this solve it?" answers.

`Article.search_index` holds the article's search tokens (jieba words, synonym keys, pinyin) in
the encoding of `lifeline.knowledge.text.encode`; the database indexes that column itself:
an FTS5 table kept by triggers on SQLite, a generated `tsvector` column on PostgreSQL
(migration 0002). Nothing else writes the index.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.knowledge.choices import ArticleLanguage, Audience, SuggestionKind


class ArticleQuerySet(RestrictedQuerySet):
    def live(self, now: object = None) -> ArticleQuerySet:
        """Published and not expired."""
        moment = now or timezone.now()
        return self.filter(is_published=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=moment)
        )

    def for_audiences(self, audiences: list[str]) -> ArticleQuerySet:
        return self.filter(audience__in=audiences)


class Article(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="articles")
    language = models.CharField(
        _("language"), max_length=10, choices=ArticleLanguage.choices, default="zh-hans"
    )
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.PATRONS
    )
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), help_text=_("HTML; scripts and styles are removed."))
    tags = models.CharField(_("tags"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    # Set on articles generated from the registry (a resource's access guide); they are
    # rewritten whenever the registry changes and are not edited by hand.
    resource = models.ForeignKey(
        "registry.Resource",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="knowledge_articles",
        verbose_name=_("resource"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    search_index = models.TextField(editable=False, default="")
    index_length = models.PositiveIntegerField(editable=False, default=0)
    # The title's own search tokens (same encoding): search weighs a term found in the title
    # without segmenting 120 candidate titles again on every question.
    title_index = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["library", "is_published", "audience"]),
            # Search's change stamps: the newest article of a library (vocabulary) and the
            # whole index's count, mean length and newest change (corpus_stats) are read from
            # these instead of the 20,000 wide rows on every question.
            models.Index(fields=["library", "updated_at"], name="knowledge_lib_updated"),
            models.Index(fields=["updated_at", "index_length"], name="knowledge_updated_len"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "language"],
                condition=Q(resource__isnull=False),
                name="knowledge_one_guide_per_language",
            )
        ]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    @property
    def is_generated(self) -> bool:
        return self.resource_id is not None

    def is_live(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.is_published and (self.expires_at is None or self.expires_at > moment)  # type: ignore[operator]


class Posting(models.Model):
    """One term of one article, for ranking (knowledge/search.py): how often the article's
    index holds it (tf), whether its title does, and the article's index length. Ranking reads
    only these narrow rows, never the wide article rows or their full-text index: the BM25 score
    of every matching article is one indexed GROUP BY, the same statement on SQLite and
    PostgreSQL. Written from `Article.search_index` whenever an article is saved (signals.py);
    bulk writers call `search.write_postings` themselves."""

    term = models.CharField(max_length=64)
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Indexed by the unique (article, term) constraint.
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="postings", db_index=False
    )
    tf = models.PositiveSmallIntegerField()
    in_title = models.BooleanField(default=False)
    length = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Covering: ranking (term, library → everything it sums) and document frequencies
            # (term) are index-only on both databases.
            models.Index(
                fields=["term", "library", "article", "tf", "in_title", "length"],
                name="knowledge_posting_rank",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["article", "term"], name="knowledge_posting_unique")
        ]

    def __str__(self) -> str:
        return f"{self.term} in {self.article_id}"


class ArticleVersion(models.Model):
    """What an article said at one version; restoring copies it forward as a new version."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"))
    tags = models.CharField(_("tags"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=ArticleLanguage.choices)
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "article__library"

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="knowledge_version_unique")
        ]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class Deflection(models.Model):
    """One "did this solve it?" answer about a suggestion offered before a human answered."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="deflections")
    kind = models.CharField(_("kind"), max_length=10, choices=SuggestionKind.choices)
    object_id = models.PositiveBigIntegerField(_("suggested item"))
    solved = models.BooleanField(_("solved"))
    channel = models.CharField(_("channel"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("answered at"), default=timezone.now, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["library", "created_at"])]
        verbose_name = _("deflection answer")
        verbose_name_plural = _("deflection answers")

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.solved}"
