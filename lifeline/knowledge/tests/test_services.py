from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lifeline.knowledge import services
from lifeline.knowledge.choices import Audience
from lifeline.knowledge.models import Article, ArticleVersion, Deflection

pytestmark = pytest.mark.django_db


def test_create_search_suggest(library_a):
    vpn = services.create_article(
        library_a,
        title="校外如何使用VPN访问图书馆数据库",
        body="<p>在校外请先登录学校VPN。</p><p>登录后打开图书馆主页，进入数据库列表即可下载全文。</p>",
        tags=["VPN", "校外访问"],
    )
    services.create_article(
        library_a,
        title="打印学位论文提交回执",
        body="<p>论文提交通过审核后，登录学位论文提交系统，点击“打印回执”。</p>",
    )
    found = services.suggest(library_a, "在家怎么用vpn下载知网论文")
    assert found and found[0].id == vpn.pk
    assert found[0].kind == "article"
    assert "VPN" in found[0].passage
    assert found[0].url.endswith(f"/help/{vpn.pk}/")


def test_versions_and_restore(library_a, librarian_a):
    art = services.create_article(library_a, title="One", body="<p>first</p>", user=librarian_a)
    art = services.update_article(art, body="<p>second</p>", user=librarian_a)
    assert art.version == 2
    art = services.restore_version(art, 1, user=librarian_a)
    assert art.version == 3 and art.body == "<p>first</p>"
    assert list(ArticleVersion.objects.filter(article=art).values_list("number", flat=True)) == [
        3,
        2,
        1,
    ]


def test_script_sanitised(library_a):
    art = services.create_article(
        library_a,
        title="x",
        body='<p onclick="evil()">hi<script>alert(1)</script>'
        '<a href="javascript:alert(1)">l</a></p>',
    )
    assert "script" not in art.body and "onclick" not in art.body and "javascript" not in art.body


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "NEAR(a b)",
        "*",
        "^a",
        "((",
        "a AND OR NOT",
        "知网\x00",
        "'; DROP TABLE x; --",
        "a:b",
        "-",
        "{}",
    ],
)
def test_hostile_queries(library_a, query):
    services.create_article(library_a, title="知网 CNKI", body="<p>知网</p>")
    services.suggest(library_a, query)


def test_staff_only_and_expired_not_suggested(library_a, library_b):
    services.create_article(
        library_a, title="内部值班安排 VPN", body="<p>VPN</p>", audience=Audience.STAFF
    )
    services.create_article(
        library_a,
        title="过期 VPN",
        body="<p>VPN</p>",
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    services.create_article(library_b, title="B VPN", body="<p>VPN</p>")
    assert services.suggest(library_a, "VPN") == []
    assert len(services.suggest(library_a, "VPN", staff=True)) == 1


def test_deflection(library_a):
    services.record_deflection(library_a, "article", 1, True, channel="chat")
    assert Deflection.objects.get().solved is True
    with pytest.raises(ValueError):
        services.record_deflection(library_a, "other", 1, True)


def test_nicknames_pinyin_typo(library_a):
    cnki = services.create_article(
        library_a, title="中国知网使用方法", body="<p>知网检索与下载。</p>"
    )
    services.create_article(library_a, title="Printing", body="<p>Printer on floor 2</p>")
    assert services.suggest(library_a, "CNKI")[0].id == cnki.pk
    assert services.suggest(library_a, "zhiwang")[0].id == cnki.pk
    assert services.suggest(library_a, "zhong guo zhi wang")[0].id == cnki.pk
    assert Article.objects.count() == 2
    assert services.suggest(library_a, "prnting")[0].title == "Printing"


def test_suggest_query_count_bounded(library_a, django_assert_max_num_queries):
    """A fixed number of queries however many terms and candidates (no query per term or per
    candidate): stamp, vocabulary, corpus stamp, counts, document frequencies, the ranking,
    the visible ones with their terms, the articles; the counts follow a deletion."""
    for n in range(30):
        services.create_article(
            library_a,
            title=f"数据库 {n} 校外访问",
            body=f"<p>校外访问数据库 {n} 请登录VPN，或用CARSI联邦认证。</p>",
        )
    from django.core.cache import cache

    cache.clear()
    with django_assert_max_num_queries(8):
        found = services.suggest(library_a, "在家怎么用vpn和carsi登录知网万方数据库下载论文", 3)
    assert len(found) == 3
    with django_assert_max_num_queries(5):
        services.suggest(library_a, "在家怎么用vpn和carsi登录知网万方数据库下载论文", 3)
    from lifeline.knowledge import search

    assert search.corpus_stats([])[0] == 30
    Article.objects.filter(title__startswith="数据库 0 ").delete()
    assert search.corpus_stats([])[0] == 29


