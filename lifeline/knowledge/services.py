"""The knowledge base's domain functions: the seam other apps call.

`suggest(library, text)` gives the articles and registry entries that answer a question, each
with the passage that answers it; `record_deflection` counts the patron's "did this solve it?";
`create_article` / `update_article` / `restore_version` keep a version row per save.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.knowledge import search, text
from lifeline.knowledge.choices import Audience, SuggestionKind
from lifeline.knowledge.models import Article, ArticleVersion, Deflection

ALLOWED_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "a",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "hr",
    "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
MAX_BODY = 200_000
PASSAGE_CHARS = 240


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "article" | "resource"
    id: int
    title: str
    url: str
    passage: str
    score: float


def sanitise(body: str) -> str:
    """Article HTML through Ammonia (nh3): scripts, styles, event handlers and javascript: links
    go; links get rel="noopener noreferrer"."""
    return nh3.clean(
        body.replace("\x00", "")[:MAX_BODY],
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


BLOCK = re.compile(r"</?(?:p|br|h[1-6]|li|ul|ol|tr|td|th|table|blockquote|pre|hr)\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]+>")
SENTENCE = re.compile(r"(?<=[。！？；!?;])|(?<=\.)\s+|\n+")


def plain_text(body: str) -> str:
    return html.unescape(TAG.sub("", BLOCK.sub("\n", body)))


def normalise_tags(tags: Iterable[str] | str) -> str:
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    clean = [t.strip().replace(",", " ")[:40] for t in items if t and t.strip()]
    joined = ",".join(dict.fromkeys(clean))
    return joined[:500]


def index_article(article: Article) -> None:
    """Fill the search columns from the article (the database's FTS index follows them)."""
    words = text.document_tokens(
        article.title, article.title, article.tags.replace(",", " "), plain_text(article.body)
    )
    article.search_index = text.encode_all(words)
    article.index_length = len(words)
    article.title_index = text.encode_all(text.document_tokens(article.title))


def _snapshot(article: Article, user: Any, note: str = "") -> None:
    ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        tags=article.tags,
        language=article.language,
        audience=article.audience,
        expires_at=article.expires_at,
        is_published=article.is_published,
        note=note[:200],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


@transaction.atomic
def create_article(
    library: Library,
    *,
    title: str,
    body: str,
    language: str = "zh-hans",
    audience: str = Audience.PATRONS,
    tags: Iterable[str] | str = (),
    expires_at: dt.datetime | None = None,
    user: Any = None,
    is_published: bool = True,
    resource: Any = None,
) -> Article:
    article = Article(
        library=library,
        title=title.replace("\x00", "").strip()[:300],
        body=sanitise(body),
        language=language,
        audience=audience,
        tags=normalise_tags(tags),
        expires_at=expires_at,
        is_published=is_published,
        resource=resource,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    article.full_clean(exclude=["created_by", "resource", "search_index", "title_index"])
    index_article(article)
    article.save()
    _snapshot(article, user)
    return article


@transaction.atomic
def update_article(
    article: Article, *, user: Any = None, note: str = "", **changes: Any
) -> Article:
    """Save new content as the next version (nothing happens when nothing changed)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if "body" in changes:
        changes["body"] = sanitise(changes["body"])
    if "tags" in changes:
        changes["tags"] = normalise_tags(changes["tags"])
    if "title" in changes:
        changes["title"] = str(changes["title"]).replace("\x00", "").strip()[:300]
    fields = ("title", "body", "tags", "language", "audience", "expires_at", "is_published")
    if not any(k in fields and getattr(article, k) != v for k, v in changes.items()):
        return article
    for key, value in changes.items():
        if key in fields:
            setattr(article, key, value)
    article.full_clean(exclude=["created_by", "resource", "search_index", "title_index"])
    article.version += 1
    index_article(article)
    article.save()
    _snapshot(article, user, note)
    return article


@dataclass(frozen=True)
class NewArticle:
    """One article for `create_articles` (the fields of `create_article`)."""

    title: str
    body: str
    language: str = "zh-hans"
    audience: str = Audience.PATRONS
    tags: Iterable[str] | str = ()
    expires_at: dt.datetime | None = None
    is_published: bool = True


BULK_ARTICLES = 1000


@transaction.atomic
def create_articles(library: Library, items: Iterable[NewArticle], *, user: Any = None) -> int:
    """Many articles in one transaction, each cleaned, validated, indexed and given its first
    version as `create_article` does, written in batches: the articles and versions by
    `bulk_create`, the postings as plain rows (`search.write_postings`), the database's
    full-text index by its own triggers (SQLite) or generated column (PostgreSQL). One audit
    row for the import, not one per article. A bad article raises `ValidationError` (naming
    its position) and nothing is written. Returns the number created."""
    from lifeline.core import audit
    from lifeline.core.choices import AuditAction

    author = user if getattr(user, "is_authenticated", False) else None
    created = 0
    batch: list[Article] = []

    def flush() -> None:
        nonlocal created
        saved = Article.objects.bulk_create(batch)
        ArticleVersion.objects.bulk_create(
            [
                ArticleVersion(
                    article=a,
                    number=a.version,
                    title=a.title,
                    body=a.body,
                    tags=a.tags,
                    language=a.language,
                    audience=a.audience,
                    expires_at=a.expires_at,
                    is_published=a.is_published,
                    created_by=author,
                )
                for a in saved
            ]
        )
        search.write_postings(saved, fresh=True)
        created += len(saved)
        batch.clear()

    with search.bulk_writing():
        for n, item in enumerate(items):
            article = Article(
                library=library,
                title=item.title.replace("\x00", "").strip()[:300],
                body=sanitise(item.body),
                language=item.language,
                audience=item.audience,
                tags=normalise_tags(item.tags),
                expires_at=item.expires_at,
                is_published=item.is_published,
                created_by=author,
            )
            try:
                article.full_clean(
                    exclude=["created_by", "resource", "search_index", "title_index", "library"]
                )
            except ValidationError as error:
                raise ValidationError(f"article {n + 1}: {error}") from error
            index_article(article)
            batch.append(article)
            if len(batch) >= BULK_ARTICLES:
                flush()
        if batch:
            flush()
    audit.write(
        AuditAction.IMPORT,
        model="knowledge.Article",
        library_id=library.pk,
        message=f"knowledge articles: {created} created",
    )
    return created


def restore_version(article: Article, number: int, *, user: Any = None) -> Article:
    old = ArticleVersion.objects.get(article=article, number=number)
    return update_article(
        article,
        user=user,
        note=f"restored v{number}",
        title=old.title,
        body=old.body,
        tags=old.tags,
        language=old.language,
        audience=old.audience,
        expires_at=old.expires_at,
        is_published=old.is_published,
    )


# --- who reads what -----------------------------------------------------------------------


def audiences_for(user: Any, library: Library) -> list[str]:
    """What a reader may see: everyone the public articles, the library's patrons also the
    patrons' ones, its staff everything. Another library's staff are the public here."""
    from lifeline.core.access import is_patron
    from lifeline.core.permissions import user_can

    if getattr(user, "is_authenticated", False):
        if user_can(user, library):
            return [Audience.PUBLIC, Audience.PATRONS, Audience.STAFF]
        if is_patron(user, library):
            return [Audience.PUBLIC, Audience.PATRONS]
    return [Audience.PUBLIC]


def visible_articles(user: Any, library: Library) -> Any:
    qs = Article.objects.filter(library=library).for_audiences(audiences_for(user, library))
    if audiences_for(user, library)[-1] != Audience.STAFF:
        qs = qs.live()
    return qs


# --- suggestions --------------------------------------------------------------------------


def best_passage(body: str, terms: Iterable[str]) -> str:
    """The sentence of the body that holds most of the question's terms (the first on a tie),
    with the next one when it is short. Terms are looked for as written (a group key as any of
    its names; a pinyin term in the sentence's pinyin), not re-segmented: this runs for every
    suggestion."""
    forms = [(t, text.surface_forms(t)) for t in terms]
    sentences = [s.strip() for s in SENTENCE.split(plain_text(body)) if s and s.strip()]
    if not sentences:
        return ""
    best, best_score = 0, -1
    for i, sentence in enumerate(sentences):
        folded = sentence.casefold()
        score = 0
        spelled = ""
        for term, names in forms:
            if any(name in folded for name in names):
                score += 1
            elif term.isascii() and term.isalpha():
                spelled = spelled or text.pinyin("".join(text.HAN.findall(folded)))
                score += term in spelled
        if score > best_score:
            best, best_score = i, score
    passage = sentences[best]
    if len(passage) < 40 and best + 1 < len(sentences):
        passage = f"{passage} {sentences[best + 1]}"
    return passage[:PASSAGE_CHARS]


def article_url(article: Article, code: str) -> str:
    if article.resource_id and article.resource is not None:
        return reverse("registry:resource", args=[code, article.resource.key])
    return reverse("knowledge:article", args=[code, article.pk])


def search_articles(
    library: Library, query: str, audiences: list[str], limit: int = 10
) -> list[tuple[Article, search.Hit]]:
    hits = search.search(library, query, audiences, limit)
    by_id = Article.objects.select_related("resource").in_bulk([h.article_id for h in hits])
    return [(by_id[h.article_id], h) for h in hits if h.article_id in by_id]


def suggest(
    library: Library, text: str, limit: int = 3, *, staff: bool = False
) -> list[Suggestion]:
    """The articles and registry entries that answer a question, best first, each with its
    answering passage. Patrons are offered public and patron articles; `staff=True` adds the
    staff-only ones (for the reference console)."""
    audiences: list[str] = [Audience.PUBLIC, Audience.PATRONS]
    if staff:
        audiences.append(Audience.STAFF)
    out: list[Suggestion] = []
    for article, hit in search_articles(library, text, audiences, limit):
        generated = article.resource_id is not None
        out.append(
            Suggestion(
                kind=SuggestionKind.RESOURCE if generated else SuggestionKind.ARTICLE,
                id=int(article.resource_id if generated else article.pk),  # type: ignore[arg-type]
                title=article.title,
                url=article_url(article, library.code),
                passage=best_passage(article.body, hit.terms),
                score=hit.score,
            )
        )
    return out


def record_deflection(
    library: Library,
    suggestion_kind: str,
    suggestion_id: int,
    solved: bool,
    *,
    channel: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Count one "did this solve it?" answer about a suggestion of this library."""
    if suggestion_kind not in SuggestionKind.values:
        raise ValueError(f"unknown suggestion kind {suggestion_kind!r}")
    Deflection.objects.create(
        library=library,
        kind=suggestion_kind,
        object_id=int(suggestion_id),
        solved=bool(solved),
        channel=channel[:30],
        created_at=now or timezone.now(),
    )
