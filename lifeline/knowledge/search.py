"""Full-text search of the knowledge base, on the database's own index.

Same ranking on SQLite and PostgreSQL, by construction:

1. The database finds candidates: articles of the library, visible to the reader, whose index
   holds any of the question's terms (FTS5 `MATCH 't1 OR t2'` on SQLite; `@@ to_tsquery('simple',
   't1 | t2')` on PostgreSQL, on a GIN index). Each orders them by its own relevance (FTS5
   `bm25()`, PostgreSQL `ts_rank_cd()`) and keeps the first CANDIDATES (a wide net: the final
   order is not the database's). PostgreSQL ranks only the articles holding the question's
   rarest terms (`rarest()`, up to PICK articles): ts_rank_cd detoasts the stored tsvector of
   each row it ranks, and common terms matched most of a 20,000-article base.
2. The final score is Okapi BM25 (k1 = 1.2, b = 0.75, FTS5's own constants) computed here, in
   Python, over those candidates: term frequencies counted in the candidate's stored tokens
   (`search_index`), title terms from its stored title tokens (`title_index`), document
   frequencies counted by the database's index over all articles (as FTS5's bm25() counts
   them; cached until an article changes), document lengths stored with the article. A term
   found in the title counts again with weight TITLE_WEIGHT. Ties go to the lower id. So two
   databases holding the same articles give the same order, which the tests check on both
   (the hit-rate floors hold on each). The one place they may differ: which articles make the
   candidate list when more than CANDIDATES match (each database's own cut).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.knowledge import text
from lifeline.knowledge.models import Article

CANDIDATES = 120
# FTS5's own first cut, before the library/audience filter (see candidates()).
INNER = 2000
K1 = 1.2
B = 0.75
TITLE_WEIGHT = 1.5
VOCAB_SECONDS = 300
# PostgreSQL ranks only the articles holding the question's rarest terms, up to this many.
PICK = 4000
GENERATION_KEY = "knowledge:generation"


def forget_stats() -> None:
    """A deleted article changes the counts without raising the newest stamp: start afresh.
    (Per cache: with the local-memory cache another process sees it after VOCAB_SECONDS.)"""
    cache.set(GENERATION_KEY, time.time_ns(), None)


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float
    terms: tuple[str, ...]


def _vendor() -> str:
    return connection.vendor


def _fts_query(encoded: list[str]) -> str:
    # Tokens are [a-z0-9] only (text.encode), but quote them anyway: FTS5 reads bare AND, OR,
    # NOT and NEAR as operators.
    return " OR ".join(f'"{t}"' for t in encoded)


def _ts_query(encoded: list[str]) -> str:
    return " | ".join(f"'{t}'" for t in encoded)


def _where(library: Library, audiences: list[str]) -> tuple[str, list[Any]]:
    marks = ", ".join(["%s"] * len(audiences))
    sql = (
        f"a.library_id = %s AND a.is_published = %s AND a.audience IN ({marks})"
        " AND (a.expires_at IS NULL OR a.expires_at > %s)"
    )
    return sql, [library.pk, True, *audiences, timezone.now()]


def rarest(encoded: list[str], df: dict[str, int]) -> list[str]:
    """The question's rarest terms, as many as hold at most PICK articles together (the rarest
    always): the terms that tell articles apart. Common ones still count in the score."""
    picked: list[str] = []
    held = 0
    for t in sorted((t for t in encoded if df.get(t)), key=lambda t: (df[t], t)):
        if picked and held + df[t] > PICK:
            break
        picked.append(t)
        held += df[t]
    return picked or encoded


def candidates(
    library: Library, audiences: list[str], encoded: list[str], picked: list[str] | None = None
) -> list[int]:
    where, params = _where(library, audiences)
    table = Article._meta.db_table
    if _vendor() == "sqlite":
        # FTS5 ranks its own matches first (bm25 in C, ORDER BY rank), then the article filter
        # runs on that short list: filtering the join row by row first was ten times slower.
        sql = (
            "SELECT a.id FROM (SELECT rowid AS rid, rank AS r"  # noqa: S608 - names are ours
            " FROM knowledge_article_fts"
            " WHERE knowledge_article_fts MATCH %s ORDER BY rank LIMIT %s) f"
            f" JOIN {table} a ON a.id = f.rid WHERE {where} ORDER BY f.r, a.id LIMIT %s"
        )
        args = [_fts_query(encoded), INNER, *params, CANDIDATES]
    else:
        # Only the articles holding one of the rarest terms are ranked: ts_rank_cd reads (and
        # detoasts) the stored tsvector of every row it ranks, and a question's common terms
        # matched 5,000-12,000 of 20,000 articles (p99 543 ms); they still count in the rank.
        sql = (
            f"SELECT a.id FROM {table} a, to_tsquery('simple', %s) q,"  # noqa: S608 - names are ours
            " to_tsquery('simple', %s) r"
            f" WHERE a.search_vector @@ r AND {where}"
            " ORDER BY ts_rank_cd(a.search_vector, q) DESC, a.id LIMIT %s"
        )
        args = [_ts_query(encoded), _ts_query(picked or encoded), *params, CANDIDATES]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return [row[0] for row in cursor.fetchall()]


def corpus_stats(encoded: list[str]) -> tuple[int, float, dict[str, int]]:
    """(documents, average length, document frequency of each term) over the whole index, as
    FTS5's own bm25() counts them. All three are cached under a stamp read from indexes alone
    (newest change, highest id, and a generation that deleting an article bumps): counting and
    averaging the 20,000 rows is done once per change, not per question (on PostgreSQL it was
    a sequential scan of the table each time). At most three queries: the stamp, the counts when
    the stamp is new, one statement counting every uncached term at once."""
    table = Article._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(updated_at) FROM {table}), (SELECT max(id) FROM {table})"  # noqa: S608
        )
        stamp, top = cursor.fetchone()
        generation = cache.get(GENERATION_KEY, 0)
        version = hashlib.sha256(f"{stamp}:{top}:{generation}".encode()).hexdigest()[:16]
        stats_key = f"knowledge:stats:{connection.vendor}:{version}"
        stats = cache.get(stats_key)
        if stats is None:
            cursor.execute(f"SELECT count(*), avg(index_length) FROM {table}")  # noqa: S608
            stats = cursor.fetchone()
            cache.set(stats_key, stats, VOCAB_SECONDS)
        total, avg = stats
        keys = {t: f"knowledge:df:{connection.vendor}:{version}:{t}" for t in encoded}
        cached = cache.get_many(list(keys.values()))
        df: dict[str, int] = {}
        missing = []
        for t, key in keys.items():
            if key in cached:
                df[t] = int(cached[key])
            else:
                missing.append(t)
        if missing:
            # One statement, one indexed count per term (FTS5 MATCH / GIN @@).
            if _vendor() == "sqlite":
                one = (
                    "(SELECT count(*) FROM knowledge_article_fts"
                    " WHERE knowledge_article_fts MATCH %s)"
                )
                args = [f'"{t}"' for t in missing]
            else:
                one = (
                    f"(SELECT count(*) FROM {table}"  # noqa: S608 - names are ours
                    " WHERE search_vector @@ to_tsquery('simple', %s))"
                )
                args = [f"'{t}'" for t in missing]
            cursor.execute("SELECT " + ", ".join([one] * len(missing)), args)
            for t, n in zip(missing, cursor.fetchone(), strict=True):
                df[t] = int(n)
            cache.set_many({keys[t]: df[t] for t in missing}, VOCAB_SECONDS)
    return int(total or 0), float(avg or 1.0), df


def vocabulary(library: Library) -> frozenset[str]:
    """Latin words of the library's article titles and tags: what typos are corrected to."""
    stamp = (
        Article.objects.filter(library=library)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    key = f"knowledge:vocab:{library.pk}:{stamp.timestamp() if stamp else 0}"
    words: frozenset[str] | None = cache.get(key)
    if words is None:
        found: set[str] = set()
        for title, tags in (
            Article.objects.filter(library=library).values_list("title", "tags").iterator()
        ):
            for t in text.tokens(f"{title} {tags}"):
                if t.isascii() and t.isalpha() and len(t) > 3:
                    found.add(t)
        words = frozenset(found)
        cache.set(key, words, VOCAB_SECONDS)
    return words


def search(library: Library, query: str, audiences: list[str], limit: int = 10) -> list[Hit]:
    terms = text.query_terms(query, vocabulary(library))
    if not terms:
        return []
    plain_of = {text.encode(t): t for t in terms}
    encoded = list(plain_of)
    total, avg, df = corpus_stats(encoded)
    picked = rarest(encoded, df) if _vendor() != "sqlite" else None
    ids = candidates(library, audiences, encoded, picked)
    if not ids:
        return []
    rows = Article.objects.filter(pk__in=ids).values_list(
        "pk", "title_index", "search_index", "index_length"
    )
    hits: list[Hit] = []
    for pk, title_index, index, length in rows:
        # Term frequencies counted in C on the stored tokens (no re-tokenising, no Counter):
        # the spaces are doubled so that neighbouring equal tokens each count.
        padded = f" {index.replace(' ', '  ')} "
        in_title = set(title_index.split())
        score = 0.0
        matched: list[str] = []
        for t in encoded:
            n = padded.count(f" {t} ")
            if not n:
                continue
            idf = math.log(1 + (total - df[t] + 0.5) / (df[t] + 0.5))
            weight = idf * n * (K1 + 1) / (n + K1 * (1 - B + B * (length or 1) / avg))
            if t in in_title:
                weight *= 1 + TITLE_WEIGHT
            score += weight
            matched.append(plain_of[t])
        if score > 0:
            hits.append(Hit(pk, round(score, 9), tuple(matched)))
    hits.sort(key=lambda h: (-h.score, h.article_id))
    return hits[:limit]
