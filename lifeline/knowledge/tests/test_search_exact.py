"""The bounded candidate step gives exact BM25: taking articles in order of their score's upper
bound and stopping once the best scores beat the next bound must return what scoring every
matching article would. Checked with batches of 3 (many stops) against a full scan."""

from __future__ import annotations

import random
from typing import Any

import pytest

from lifeline.knowledge import search, services, text
from lifeline.knowledge.models import Article

pytestmark = pytest.mark.django_db

WORDS = ["数据库", "校外", "访问", "VPN", "CARSI", "论文", "打印", "回执", "知网", "万方", "下载", "登录"]


def brute_force(library: Any, query: str, limit: int) -> list[tuple[int, float]]:
    """BM25 of every article of the library (no candidate step at all)."""
    terms = text.query_terms(query, search.vocabulary(library))
    encoded = list({text.encode(t): t for t in terms})
    total, avg, df = search.corpus_stats(encoded)
    idf = {t: search._idf(total, df[t]) for t in encoded}
    scored = []
    for pk, title_index, index, length in Article.objects.filter(library=library).values_list(
        "pk", "title_index", "search_index", "index_length"
    ):
        score, _matched = search._score(encoded, idf, avg, title_index, index, length)
        if score > 0:
            scored.append((pk, round(score, 9)))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:limit]


def test_bounded_candidates_equal_a_full_scan(library_a: Any, monkeypatch: Any) -> None:
    rng = random.Random(7)
    for n in range(80):
        title = "".join(rng.sample(WORDS, rng.randint(1, 3)))
        body = "".join(f"<p>{''.join(rng.choices(WORDS, k=rng.randint(2, 12)))}</p>" for _ in range(3))
        services.create_article(library_a, title=f"{title} {n}", body=body)
    monkeypatch.setattr(search, "BATCH", 3)
    monkeypatch.setattr(search, "POOL", 10_000)
    for query in ("校外访问数据库", "VPN 登录 知网", "打印论文回执", "CARSI", "万方下载论文 VPN"):
        want = brute_force(library_a, query, 5)
        got = [(h.article_id, h.score) for h in search.search(library_a, query, ["patrons"], 5)]
        assert got == want, query
