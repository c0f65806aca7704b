"""Full-text search of the knowledge base, on the database's own index.

Same ranking on SQLite and PostgreSQL, by construction, including which articles are looked at:

1. Document frequencies of the question's terms, counted by the database's index over all
   articles (FTS5 MATCH / GIN @@, as FTS5's own bm25() counts them; cached until an article
   changes).
2. Matches: for each term, the ids of the library's visible articles holding it, from the
   index alone (no ranking in the database: FTS5 `bm25()` / `ts_rank_cd()` ranked every match,
   and on PostgreSQL that detoasted 5,000-12,000 stored tsvectors per question). Terms held by
   more than half the articles are left out of this step unless no other term is left (they
   still count in the score).
3. Each matching article's BM25 score is at most (K1 + 1) × (1 + TITLE_WEIGHT) × the summed IDF
   of the terms it holds (tf saturates at K1 + 1). Articles are taken in order of that bound
   (ties: lower id) in batches, and scored exactly (step 4) until the best `limit` exact scores
   are at least the next bound (then the order is exact BM25 over every match, as a full scan
   would give) or POOL articles were scored (then it is BM25 over the POOL most promising).
4. The score is Okapi BM25 (k1 = 1.2, b = 0.75, FTS5's own constants) computed here, in
   Python: term frequencies counted in the stored tokens (`search_index`), title terms from
   the stored title tokens (`title_index`, a term found there counts again with weight
   TITLE_WEIGHT), document lengths stored with the article. Ties go to the lower id.

Steps 2-4 use only sets of ids and stored tokens, so two databases holding the same articles
give the same order; the tests check it on both.
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

# Articles scored exactly per question at most, and per batch (see the module docstring).
POOL = 400
BATCH = 100
# Terms held by more than this share of all articles do not pick candidates.
COMMON = 0.5
K1 = 1.2
B = 0.75
TITLE_WEIGHT = 1.5
VOCAB_SECONDS = 300
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


def matches(library: Library, audiences: list[str], terms: list[str]) -> dict[int, list[str]]:
    """Article id → the given terms it holds, for the library's visible articles: one
    statement, one index lookup per term, no ranking and no stored tokens read."""
    where, params = _where(library, audiences)
    table = Article._meta.db_table
    parts: list[str] = []
    args: list[Any] = []
    for n, t in enumerate(terms):
        if _vendor() == "sqlite":
            # The FTS5 lookup as a list first: joined row by row, SQLite probed FTS5 once per
            # article (seconds).
            parts.append(
                f"SELECT {n}, a.id FROM {table} a WHERE a.id IN"  # noqa: S608 - names are ours
                " (SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH %s)"
                f" AND {where}"
            )
            args += [f'"{t}"', *params]
        else:
            parts.append(
                f"SELECT {n}, a.id FROM {table} a"  # noqa: S608 - names are ours
                f" WHERE a.search_vector @@ to_tsquery('simple', %s) AND {where}"
            )
            args += [f"'{t}'", *params]
    found: dict[int, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), args)
        for n, pk in cursor.fetchall():
            found.setdefault(pk, []).append(terms[n])
    return found


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


def _idf(total: int, df: int) -> float:
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def _score(
    encoded: list[str],
    idf: dict[str, float],
    avg: float,
    title_index: str,
    index: str,
    length: int | None,
) -> tuple[float, list[str]]:
    # Term frequencies counted in C on the stored tokens (no re-tokenising, no Counter): the
    # spaces are doubled so that neighbouring equal tokens each count.
    padded = f" {index.replace(' ', '  ')} "
    in_title = set(title_index.split())
    score = 0.0
    matched: list[str] = []
    for t in encoded:
        n = padded.count(f" {t} ")
        if not n:
            continue
        weight = idf[t] * n * (K1 + 1) / (n + K1 * (1 - B + B * (length or 1) / avg))
        if t in in_title:
            weight *= 1 + TITLE_WEIGHT
        score += weight
        matched.append(t)
    return score, matched


def search(library: Library, query: str, audiences: list[str], limit: int = 10) -> list[Hit]:
    terms = text.query_terms(query, vocabulary(library))
    if not terms:
        return []
    plain_of = {text.encode(t): t for t in terms}
    encoded = list(plain_of)
    total, avg, df = corpus_stats(encoded)
    present = [t for t in encoded if df[t]]
    if not present:
        return []
    idf = {t: _idf(total, df[t]) for t in encoded}
    picking = [t for t in present if df[t] <= COMMON * total] or present
    found = matches(library, audiences, picking)
    if not found:
        return []
    # The upper bound of each article's score, up to the constant (K1 + 1)(1 + TITLE_WEIGHT).
    ceiling = (K1 + 1) * (1 + TITLE_WEIGHT)
    unseen = sum(idf[t] for t in encoded if t not in picking)  # terms that picked nobody
    ranked = sorted(
        ((sum(idf[t] for t in held) + unseen, pk) for pk, held in found.items()),
        key=lambda pair: (-pair[0], pair[1]),
    )
    hits: list[Hit] = []
    for start in range(0, min(len(ranked), POOL), BATCH):
        batch = [pk for _bound, pk in ranked[start : start + BATCH]]
        rows = Article.objects.filter(pk__in=batch).values_list(
            "pk", "title_index", "search_index", "index_length"
        )
        for pk, title_index, index, length in rows:
            score, matched = _score(encoded, idf, avg, title_index, index, length)
            if score > 0:
                hits.append(Hit(pk, round(score, 9), tuple(plain_of[t] for t in matched)))
        hits.sort(key=lambda h: (-h.score, h.article_id))
        following = start + BATCH
        if following >= len(ranked):
            break
        if len(hits) >= limit and hits[limit - 1].score >= ranked[following][0] * ceiling:
            break  # no article not yet scored can rank higher: the order is exact
    return hits[:limit]
