"""Search of the knowledge base: the database's own full-text index finds the candidates, Okapi
BM25 over the postings ranks them, the same statement on SQLite and PostgreSQL.

1. `text.query_terms` turns the question into terms (jieba words, synonym keys, pinyin, typos
   corrected), encoded as the index stores them (`text.encode`).
2. Candidates: the database's full-text index over `Article.search_index` (migration 0002: FTS5
   on SQLite, a GIN tsvector on PostgreSQL) gives the articles holding any of the question's
   rarest terms (`rarest`: as many as hold at most PICK postings together), by `MATCH` /
   `@@ to_tsquery` (`full_text_match`). Both match exact tokens, so both find the same set.
   On PostgreSQL the `@@` runs inside the function `knowledge_article_matching` (migration
   0005), which can only read the GIN index: the planner, which does not cost detoasting,
   otherwise filtered the articles' stored vectors row by row.
3. Ranking reads only `Posting` rows (term, library, article, tf, in title, article length;
   written from `Article.search_index` when an article is saved), in one statement with the
   candidate step as its subquery: the CHOSEN best candidates on the rare terms (a GROUP BY on
   one covering index), then every term's Okapi BM25 (k1 = 1.2, b = 0.75, FTS5's own
   constants; a term found in the title counts again with weight TITLE_WEIGHT) summed for
   those, ORDER BY score LIMIT. FTS5's bm25() and ts_rank differ (ts_rank is not BM25 and
   reads every match's stored vector: 100-700 ms a question over 20,000 articles), so neither
   ranks: the shared sum gives two databases holding the same articles the same order (ties
   to the lower id), which the tests check.
4. Document frequencies are counted on the postings' index over all articles (as FTS5's bm25()
   counts them), the article count and mean length on the article table; all three cached
   until an article changes.
5. Only the few best are then checked against the reader's audience, publication and expiry,
   and their matched terms read (for the answering passage). When fewer than `limit` of them
   are visible, the next ones are ranked among the visible ones only.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.knowledge import text
from lifeline.knowledge.models import Article, Posting

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 1.5
VOCAB_SECONDS = 300
# Longer tokens are not indexed (Posting.term); a question's are dropped the same way.
MAX_TERM = 64
# The ranked few fetched beyond `limit`, for the audience check and the final tie-break.
SPARE = 20
BULK_CACHE_KIB = 256 * 1024
# The articles scored are chosen by the question's rarest terms: those holding at most PICK
# postings together (a question's common terms held 5,000-12,000 of 20,000 articles each);
# the CHOSEN best on those terms are then scored on every term.
PICK = 6000
CHOSEN = 300
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


def posting_rows(article: Article) -> list[tuple[str, int, int, int, bool, int]]:
    """The article's postings as rows (term, library, article, tf, in title, length), from its
    stored tokens (services.index_article)."""
    counts = Counter(t for t in article.search_index.split() if len(t) <= MAX_TERM)
    title = set(article.title_index.split())
    library, pk, length = article.library_id, article.pk, article.index_length
    return [(term, library, pk, min(n, 32767), term in title, length) for term, n in counts.items()]


POSTING_COLUMNS = ("term", "library_id", "article_id", "tf", "in_title", "length")


def write_postings(articles: Iterable[Article], *, fresh: bool = False) -> int:
    """Write (again) the postings of saved articles, as plain rows: COPY on PostgreSQL, one
    executemany per BULK_ROWS rows on SQLite (model instances cost 20 µs a row in Django
    alone: 4.8 million rows for 20,000 articles). `fresh`: the articles were just inserted,
    there is nothing to delete. A save writes through the post_save signal; bulk writers
    (services.create_articles) call this. Returns the number of rows written."""
    articles = list(articles)
    table = connection.ops.quote_name(Posting._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in POSTING_COLUMNS)
    written = 0
    with connection.cursor() as cursor:
        if not fresh:
            Posting.objects.filter(article_id__in=[a.pk for a in articles]).delete()
        if connection.vendor == "postgresql":
            # psycopg 3 beneath Django's cursor wrapper
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for article in articles:
                    for row in posting_rows(article):
                        copy.write_row(row)
                        written += 1
            return written
        marks = ", ".join(["%s"] * len(POSTING_COLUMNS))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our own names
        rows = [row for article in articles for row in posting_rows(article)]
        cursor.executemany(sql, rows)
        written = len(rows)
    return written


@contextlib.contextmanager
def bulk_writing() -> Iterator[None]:
    """Around a bulk load on SQLite: a page cache of BULK_CACHE_KIB for this connection, then
    the previous size again. With SQLite's default 2 MB the posting indexes' pages (200 MB at
    20,000 articles) were spilled and read back all through the load (7.7 µs a row instead of
    ~13 measured, 1.9 million rows)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _where(audiences: list[str]) -> tuple[str, list[Any]]:
    marks = ", ".join(["%s"] * len(audiences))
    sql = (
        f"a.is_published = %s AND a.audience IN ({marks})"
        " AND (a.expires_at IS NULL OR a.expires_at > %s)"
    )
    return sql, [True, *audiences, timezone.now()]


def rarest(idf: dict[str, float], df: dict[str, int]) -> list[str]:
    """The question's rarest terms, as many as hold at most PICK postings together (the rarest
    always): the terms that tell articles apart, which choose the articles to score."""
    picked: list[str] = []
    held = 0
    for t in sorted(idf, key=lambda t: (df[t], t)):
        if picked and held + df[t] > PICK:
            break
        picked.append(t)
        held += df[t]
    return picked


def full_text_match(library: Library, rare: list[str]) -> tuple[str, list[Any]]:
    """The candidate step, in the database's own full-text index (migration 0002): a subquery
    giving the ids of the articles whose index holds any of the `rare` terms. SQLite: FTS5
    `MATCH '"t1" OR "t2"'`; PostgreSQL: `search_vector @@ to_tsquery('simple', 't1 | t2')` on
    the GIN index (the same parser that made the vector reads the query, so a term meets its
    own lexeme). Terms are encoded tokens, [0-9a-z] only: nothing in them is query syntax.
    Both match exact tokens, so both find the same set, which BM25 over the postings then
    orders identically.

    On PostgreSQL the match is the set-returning function `knowledge_article_matching`
    (migration 0005): its own SET clause leaves the GIN bitmap as its only plan, and the rest
    of the ranking statement is planned freely. With the `@@` in the statement itself, the
    planner (which does not cost detoasting) probed the articles one by one through the
    primary key and filtered each stored vector: 20-60 ms of server CPU a question at 20,000
    articles, 350 ms with a sequential scan; through the function the whole statement is
    8 ms (p50) / 14 ms (p99)."""
    if connection.vendor == "sqlite":
        return (
            "SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH %s",
            [" OR ".join(f'"{t}"' for t in rare)],
        )
    if connection.vendor == "postgresql":
        return (
            "SELECT m.id FROM knowledge_article_matching(to_tsquery('simple'::regconfig, %s))"
            " AS m(id)",
            [" | ".join(rare)],
        )
    raise ImproperlyConfigured("knowledge search needs SQLite (FTS5) or PostgreSQL")


def ranked(
    library: Library,
    idf: dict[str, float],
    avg: float,
    count: int,
    rare: list[str],
    audiences: list[str] | None = None,
) -> list[tuple[int, float]]:
    """The `count` best (article, BM25 score over all the terms) of the library, best first,
    in one statement on two indexes: the CHOSEN articles of best score over the `rare` terms
    alone (a GROUP BY over their postings, index-only), then every term's postings of those
    articles (the (article, term) index) summed. With `audiences`, only the articles such a
    reader sees (joined: reads the article rows)."""
    terms = list(idf)
    marks = ", ".join(["%s"] * len(terms))
    rare_marks = ", ".join(["%s"] * len(rare))
    # Floats as floats on both (a bare 1.5 is an exact numeric on PostgreSQL: slower sums).
    real = "CAST(%s AS DOUBLE PRECISION)"
    whens = " ".join([f"WHEN %s THEN {real}"] * len(terms))
    # weight = idf · tf·(k1+1) / (tf + k1·(1 − b + b·length/avg)), × (1 + TITLE_WEIGHT) in the title
    score = (
        f"SUM((CASE p.term {whens} END) * p.tf * {real} / (p.tf + {real} + {real} * p.length)"
        f" * (CASE WHEN p.in_title THEN {real} ELSE 1 END))"
    )
    score_args: list[Any] = [x for t in terms for x in (t, idf[t])]
    score_args += [K1 + 1, K1 * (1 - B), K1 * B / avg, 1 + TITLE_WEIGHT]
    join = ""
    extra: list[Any] = []
    if audiences is not None:
        where, extra = _where(audiences)
        join = f" JOIN {Article._meta.db_table} a ON a.id = p.article_id AND {where}"
    table = Posting._meta.db_table
    found, found_args = full_text_match(library, rare)
    sql = (
        f"WITH c AS (SELECT p.article_id AS id FROM {table} p{join}"  # noqa: S608 - ours
        f" WHERE p.term IN ({rare_marks}) AND p.library_id = %s AND p.article_id IN ({found})"
        f" GROUP BY p.article_id ORDER BY {score} DESC, p.article_id LIMIT %s)"
        f" SELECT p.article_id, {score} AS score FROM c JOIN {table} p ON p.article_id = c.id"
        f" WHERE p.term IN ({marks})"
        " GROUP BY p.article_id ORDER BY score DESC, p.article_id LIMIT %s"
    )
    args = [*extra, *rare, library.pk, *found_args, *score_args, CHOSEN]
    args += [*score_args, *terms, count]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return [(int(pk), float(score)) for pk, score in cursor.fetchall()]


def visible_terms(ids: list[int], audiences: list[str], terms: list[str]) -> dict[int, set[str]]:
    """Of the ranked articles, those the reader may see (audience, published, not expired),
    each with the question's terms it holds (for the answering passage): one query."""
    where, params = _where(audiences)
    marks = ", ".join(["%s"] * len(ids))
    terms_marks = ", ".join(["%s"] * len(terms))
    sql = (
        f"SELECT a.id, p.term FROM {Article._meta.db_table} a"  # noqa: S608 - names are ours
        f" JOIN {Posting._meta.db_table} p ON p.article_id = a.id"
        f" WHERE a.id IN ({marks}) AND p.term IN ({terms_marks}) AND {where}"
    )
    found: dict[int, set[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *terms, *params])
        for pk, term in cursor.fetchall():
            found.setdefault(int(pk), set()).add(term)
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
            # One statement, one index-only count per term.
            one = f"(SELECT count(*) FROM {Posting._meta.db_table} WHERE term = %s)"  # noqa: S608
            args = missing
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
    terms = [
        t for t in text.query_terms(query, vocabulary(library)) if len(text.encode(t)) <= MAX_TERM
    ]
    if not terms or limit <= 0:
        return []
    plain_of = {text.encode(t): t for t in terms}
    encoded = list(plain_of)
    total, avg, df = corpus_stats(encoded)
    idf = {t: math.log(1 + (total - df[t] + 0.5) / (df[t] + 0.5)) for t in encoded if df.get(t)}
    if not idf:
        return []
    count = limit + SPARE
    rare = rarest(idf, df)
    best = ranked(library, idf, avg, count, rare)
    shown = visible_terms([pk for pk, _s in best], audiences, list(idf)) if best else {}
    if len(shown) < limit and len(best) == count:
        # Staff-only, unpublished or expired articles filled the first places: rank again
        # among the visible ones only (the article filter joined in: slower, and rare).
        best = ranked(library, idf, avg, count, rare, audiences)
        shown = visible_terms([pk for pk, _s in best], audiences, list(idf)) if best else {}
    # Rounded, so that the order does not depend on the database's float summation order.
    picked = sorted(
        ((round(s, 9), pk) for pk, s in best if pk in shown and s > 0),
        key=lambda x: (-x[0], x[1]),
    )
    return [
        Hit(pk, score, tuple(plain_of[t] for t in encoded if t in shown[pk]))
        for score, pk in picked[:limit]
    ]
