"""The bulk path (services.create_articles) and the full-text candidate step (search.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from lifeline.core.models import AuditLog
from lifeline.knowledge import search, services, text
from lifeline.knowledge.models import Article, ArticleVersion, Posting

pytestmark = pytest.mark.django_db

ITEMS = [
    ("校外如何使用VPN访问数据库", "<p>在校外请先登录学校VPN。</p><p>然后打开数据库列表。</p>"),
    ("打印学位论文回执", "<p>自助打印机在一楼，打印 打印。</p>"),
    ("CARSI login from home", "<p>Choose CARSI on the publisher's page, then log in.</p>"),
    ("知网下载", "<p>中国知网<script>x()</script>下载论文需先登录VPN。</p>"),
]


def _postings(article: Article) -> set[tuple[str, int, bool, int]]:
    rows = Posting.objects.filter(article=article).values_list("term", "tf", "in_title", "length")
    return set(rows)


def test_bulk_equals_one_by_one(library_a, library_b):
    """Same cleaning, tokens, postings, first version and ranking as create_article."""
    singles = [services.create_article(library_a, title=t, body=b) for t, b in ITEMS]
    made = services.create_articles(
        library_b, [services.NewArticle(title=t, body=b) for t, b in ITEMS]
    )
    assert made == len(ITEMS)
    bulk = list(Article.objects.filter(library=library_b).order_by("pk"))
    assert [a.title for a in bulk] == [a.title for a in singles]
    for one, many in zip(singles, bulk, strict=True):
        assert many.body == one.body and "script" not in many.body
        assert (many.search_index, many.title_index) == (one.search_index, one.title_index)
        assert _postings(many) == _postings(one)
        assert ArticleVersion.objects.filter(article=many, number=1).count() == 1
    assert AuditLog.objects.filter(model="knowledge.Article", library_id=library_b.pk).count() == 1
    for question in ("校外vpn", "打印", "zhiwang", "carsi"):
        a = [s.title for s in services.suggest(library_a, question)]
        b = [s.title for s in services.suggest(library_b, question)]
        assert a == b and a


def test_bulk_bad_article_writes_nothing(library_a):
    items = [services.NewArticle(title="好", body="<p>好</p>"), services.NewArticle("", "<p>x</p>")]
    with pytest.raises(ValidationError, match="article 2"):
        services.create_articles(library_a, items)
    assert not Article.objects.exists()
    assert not Posting.objects.exists()


def test_full_text_index_finds_the_candidates(library_a, library_b):
    """The database's own index (FTS5 MATCH / tsvector @@) finds exactly the articles whose
    postings hold one of the terms: the candidate set is the same on both databases."""
    services.create_articles(library_a, [services.NewArticle(title=t, body=b) for t, b in ITEMS])
    services.create_article(library_b, title="VPN", body="<p>VPN 打印</p>")
    for words in (["vpn"], ["打印", "carsi"], ["cnki", "论文"], ["nothing"]):
        terms = [text.encode(w) for w in words]
        sql, args = search.full_text_match(library_a, terms)
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            found = {int(pk) for (pk,) in cursor.fetchall()}
        held = Posting.objects.filter(term__in=terms)  # every library: ranking filters those
        assert found == set(held.values_list("article_id", flat=True))
        assert found or words == ["nothing"]
    # Ranking goes through that index: an article whose indexed text no longer holds the
    # words (its postings, written by the app, still do) is not found.
    vpn = Article.objects.get(library=library_a, title__startswith="校外")
    assert vpn.pk in [h.article_id for h in search.search(library_a, "校外", ["patrons"])]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE knowledge_article SET search_index = 'zzz' WHERE id = %s", [vpn.pk])
    asked = [text.encode(t) for t in text.query_terms("校外")]
    assert Posting.objects.filter(article=vpn, term__in=asked).exists()
    assert vpn.pk not in [h.article_id for h in search.search(library_a, "校外", ["patrons"])]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_ranking_never_filters_stored_vectors(library_a):
    """PostgreSQL: the ranking statement reads the full-text index only through the GIN-only
    function (migration 0005); its plan never tests `@@` on article rows (the planner, which
    does not cost detoasting, filtered every stored vector that way), and the session's
    planner settings are left as they were."""
    services.create_articles(library_a, [services.NewArticle(title=t, body=b) for t, b in ITEMS])
    statements: list[tuple[str, list[object]]] = []

    def keep(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.startswith("WITH c AS"):
            statements.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        found = search.search(library_a, "校外 vpn 打印", ["patrons"])
    assert found and len(statements) == 1
    sql, params = statements[0]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = on")  # the test database's few rows invite it
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
        )
        assert cursor.fetchone() == ("on", "on")
    assert "knowledge_article_matching" in plan
    assert "@@" not in plan and "search_vector" not in plan
