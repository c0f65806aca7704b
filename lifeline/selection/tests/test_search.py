"""Search and browse over the index (issue 12, second pass): folded tokens, the same answers on
SQLite (FTS5) and PostgreSQL (GIN tsvector), keyset pages, hostile queries; the vote in one
statement with its refusals, and the query counts of both pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.selection import browsing, services
from lifeline.selection.choices import CampaignStatus
from lifeline.selection.logic.normalise import search_terms, search_text
from lifeline.selection.models import Campaign, Catalogue, Title, Vote

pytestmark = pytest.mark.django_db


def _titles(campaign: Campaign, q: str, cls: str = "") -> list[str]:
    rows, _more = browsing.browse_titles(campaign, query=q, cls=cls, size=100)
    return sorted({t.title for t in rows})


def test_tokens_fold_and_never_carry_query_syntax() -> None:
    assert search_text("ＡＩ") == search_text("ai") == "ai"
    hostile = search_terms("\" OR 1=1 -- NEAR( * : & | ! \\ '")
    assert hostile == [("or", True), ("1", True), ("near", True)]
    assert search_terms("") == [] and search_terms("《》，。") == []
    # A lone character beside a longer word is left to the longer word (it matches everything).
    assert search_terms("第199999卷") == [("199999", True)]
    assert search_terms("虫") == [("x0000866b", True)]
    assert len(search_terms("森" * 500)) <= 12
    for token in search_text("森林生态学 Ünïcode 9787503717444").split():
        assert token.isascii() and token.isalnum() and token == token.lower()


def test_search_finds_by_title_author_publisher_and_isbn(shelf: Campaign) -> None:
    assert _titles(shelf, "生态") == ["森林生态学"]  # two characters
    assert _titles(shelf, "森林") == ["中国森林病虫害防治", "森林生态学"]
    assert _titles(shelf, "疫") == []
    assert _titles(shelf, "虫") == ["中国森林病虫害防治"]  # one character
    assert _titles(shelf, "quant") == ["Quantum Mechanics"]  # an English prefix, any case
    assert _titles(shelf, "ai 林业") == ["ＡＩ与林业"]  # full-width folded
    assert _titles(shelf, "王大明") == ["森林生态学"]  # author
    assert _titles(shelf, "北京大学") == ["量子力学导论"]  # publisher
    assert _titles(shelf, "978-7-5037-1744-4") == ["森林生态学"]  # ISBN with hyphens
    assert _titles(shelf, "9787503717444") == ["森林生态学"]
    assert _titles(shelf, "林业", cls="O") == []
    assert _titles(shelf, "力学", cls="O") == ["量子力学导论"]
    assert _titles(shelf, "量子力学 北京") == ["量子力学导论"]  # across fields


def test_keyset_pages_cover_everything_once(shelf: Campaign) -> None:
    seen: list[int] = []
    after, more = 0, True
    while more:
        rows, more = browsing.browse_titles(shelf, cls="S", after=after, size=7)
        seen += [t.pk for t in rows]
        after = rows[-1].pk if rows else after
    expected = list(Title.objects.filter(clc_class="S").order_by("id").values_list("id", flat=True))
    assert seen == expected and len(seen) == 36


def test_index_follows_changes(shelf: Campaign) -> None:
    for title in Title.objects.filter(title="森林生态学"):
        title.title = "湿地水文学"
        title.save()
    assert _titles(shelf, "生态") == [] and _titles(shelf, "水文") == ["湿地水文学"]
    Title.objects.filter(title="湿地水文学").delete()
    assert _titles(shelf, "水文") == []


def test_hostile_search_on_the_page(shelf: Campaign, patron_a: Any) -> None:
    client = client_for(patron_a)
    url = f"/selection/{shelf.library.code}/c/{shelf.pk}/"
    for q in ('"', "*", "NEAR(a b)", "a:*", "!&|", "x" * 300, "\x00", "森' OR '1'='1", "^$"):
        assert client.get(url, {"q": q}).status_code in (200, 400), q
    for after in ("-1", "x", "9" * 30, "²"):
        assert client.get(url, {"after": after}).status_code == 200
    assert "森林生态学" in client.get(url, {"q": "森林"}).content.decode()
    first = client.get(url, {"cls": "S"}).content.decode()
    assert "after=" in first  # 30 titles of class S and more: a "Next" link by keyset


def test_page_and_vote_query_counts(
    shelf: Campaign, patron_a: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(patron_a)
    url = f"/selection/{shelf.library.code}/c/{shelf.pk}/"
    title = Title.objects.filter(clc_class="S").first()
    assert title is not None
    client.get(url)
    # Session, user, library, roles, patron, campaign, its lists, the page, its marks.
    with django_assert_max_num_queries(10):
        assert client.get(url, {"q": "森林", "cls": "S"}).status_code == 200
    # Session, user, library, roles, patron, campaign, the one INSERT.
    with django_assert_max_num_queries(8):
        response = client.post(url + "mark/", {"title": title.pk, "reason": "study"})
    assert response.status_code == 302
    assert Vote.objects.filter(user=patron_a, title=title).count() == 1


def test_one_statement_vote_refusals(shelf: Campaign, patron_a: Any, library_b: Library) -> None:
    title = Title.objects.filter(clc_class="S").first()
    assert title is not None
    made = services.vote(shelf, patron_a, title.pk, "study", " 备课 ")
    stored = Vote.objects.get()
    assert stored.pk == made.pk and stored.note == "备课" and stored.origin == "patron"
    with pytest.raises(services.ValidationError) as twice:
        services.vote(shelf, patron_a, title.pk, "study")
    assert twice.value.code == "twice"
    title2 = Title.objects.filter(clc_class="O").first()
    assert title2 is not None
    Title.objects.filter(pk=title2.pk).update(status="held")
    with pytest.raises(services.ValidationError) as held:
        services.vote(shelf, patron_a, title2.pk, "study")
    assert held.value.code == "held"
    other = Catalogue.objects.create(library=library_b, name="B", source_format="sheet")
    foreign = Title.objects.create(library=library_b, catalogue=other, title="别馆的书")
    with pytest.raises(services.ValidationError) as elsewhere:
        services.vote(shelf, patron_a, foreign.pk, "study")
    assert elsewhere.value.code == "title"
    # Closed between loading the campaign and the vote: the statement checks it again.
    Campaign.objects.filter(pk=shelf.pk).update(status=CampaignStatus.CLOSED)
    title3 = Title.objects.filter(clc_class="S").exclude(pk=title.pk).first()
    assert title3 is not None
    with pytest.raises(services.ValidationError) as closed:
        services.vote(shelf, patron_a, title3.pk, "study")
    assert closed.value.code == "closed"
    assert Vote.objects.count() == 1


def test_search_uses_the_index(shelf: Campaign) -> None:
    rows, _ = browsing.browse_titles(shelf, query="生态")
    assert rows
    qs = Title.objects.filter(browsing.search_filter("生态")).order_by().values("id")
    with connection.cursor() as cursor:
        sql, params = qs.query.sql_with_params()
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "selection_title_search" in plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "selection_title_fts" in plan and "VIRTUAL TABLE" in plan
