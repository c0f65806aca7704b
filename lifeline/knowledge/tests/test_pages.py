from __future__ import annotations

import json

import pytest
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.knowledge import services
from lifeline.knowledge.choices import Audience
from lifeline.knowledge.models import Article, Deflection

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(library_a, library_b):
    return {
        "public": services.create_article(
            library_a,
            title="开馆时间 opening hours",
            body="<p>每天8:00至22:00开放。</p>",
            audience=Audience.PUBLIC,
        ),
        "patrons": services.create_article(
            library_a, title="VPN 使用方法", body="<p>先登录VPN。</p>", audience=Audience.PATRONS
        ),
        "staff": services.create_article(
            library_a,
            title="值班 VPN 内部说明",
            body="<p>VPN 账号表。</p>",
            audience=Audience.STAFF,
        ),
        "other": services.create_article(
            library_b, title="B馆 VPN", body="<p>VPN</p>", audience=Audience.PUBLIC
        ),
    }


def titles(response):
    return response.content.decode()


def test_help_centre_by_audience(client, articles, library_a, patron_a, librarian_a, librarian_b):
    url = reverse("knowledge:help", args=[library_a.code]) + "?q=VPN"
    anon = titles(client.get(url))
    assert "VPN 使用方法" not in anon and "值班" not in anon and "B馆" not in anon
    patron = titles(client_for(patron_a).get(url))
    assert "VPN 使用方法" in patron and "值班" not in patron and "B馆" not in patron
    staff = titles(client_for(librarian_a).get(url))
    assert "值班" in staff
    other = titles(client_for(librarian_b).get(url))
    assert "值班" not in other and "VPN 使用方法" not in other
    # one article: staff-only is a 404 for a patron and for another library's librarian
    page = reverse("knowledge:article", args=[library_a.code, articles["staff"].pk])
    assert client_for(patron_a).get(page).status_code == 404
    assert client_for(librarian_b).get(page).status_code == 404
    assert client_for(librarian_a).get(page).status_code == 200
    other_lib = reverse("knowledge:article", args=[library_a.code, articles["other"].pk])
    assert client.get(other_lib).status_code == 404


@pytest.mark.parametrize("q", ['"', "NEAR(", "*", "^", "((", "\x00", "a" * 5000, "知网 OR", "'"])
def test_hostile_search_never_500(client, articles, library_a, q):
    response = client.get(reverse("knowledge:help", args=[library_a.code]), {"q": q})
    assert response.status_code in (200, 400)  # the project refuses a NUL in any query: 400
    api = client.get(f"/api/knowledge/public/{library_a.code}/search/", {"q": q})
    assert api.status_code in (200, 400)


def test_script_is_not_served(client, library_a):
    art = services.create_article(
        library_a,
        title="<script>alert(1)</script>",
        body="<p>ok<script>alert(2)</script><img src=x onerror=alert(3)></p>",
        audience=Audience.PUBLIC,
    )
    html = client.get(reverse("knowledge:article", args=[library_a.code, art.pk])).content.decode()
    assert "<script>alert" not in html and "onerror" not in html


def test_feedback_counts(articles, library_a, patron_a, patron_b_client=None):
    url = reverse("knowledge:feedback", args=[library_a.code, articles["patrons"].pk])
    response = client_for(patron_a).post(url, {"solved": "yes"})
    assert response.status_code == 302
    assert Deflection.objects.get().solved is True


def test_staff_write_edit_restore(library_a, librarian_a, reference_a, patron_a):
    client = client_for(reference_a)
    new = reverse("knowledge:new", args=[library_a.code])
    assert client_for(patron_a).get(new).status_code == 403
    response = client.post(
        new,
        {
            "title": "CARSI",
            "body": "<p>one<script>x</script></p>",
            "language": "zh-hans",
            "audience": "public",
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    art = Article.objects.get(title="CARSI")
    assert "script" not in art.body
    edit = reverse("knowledge:edit", args=[library_a.code, art.pk])
    client.post(
        edit, {"title": "CARSI", "body": "<p>two</p>", "language": "zh-hans", "audience": "public"}
    )
    art.refresh_from_db()
    assert art.version == 2 and not art.is_published
    client.post(reverse("knowledge:restore", args=[library_a.code, art.pk]), {"version": "1"})
    art.refresh_from_db()
    assert art.version == 3 and "one" in art.body and art.is_published
    assert (
        client.post(
            reverse("knowledge:restore", args=[library_a.code, art.pk]), {"version": "²"}
        ).status_code
        == 302
    )
    assert (
        client.get(reverse("knowledge:history", args=[library_a.code, art.pk])).status_code == 200
    )
    assert client.get(reverse("knowledge:staff_list", args=[library_a.code])).status_code == 200


def test_api_articles_and_search(
    articles, library_a, librarian_b, reference_a, django_assert_max_num_queries
):
    client = client_for(reference_a)
    with django_assert_max_num_queries(8):
        rows = client.get("/api/knowledge/articles/").json()["results"]
    assert {r["title"] for r in rows} == {a.title for k, a in articles.items() if k != "other"}
    other = client_for(librarian_b).get("/api/knowledge/articles/").json()["results"]
    assert [r["title"] for r in other] == ["B馆 VPN"]
    made = client.post(
        "/api/knowledge/articles/",
        data=json.dumps(
            {
                "library": library_a.pk,
                "title": "API",
                "body": "<b onclick=x>hi</b>",
                "language": "en",
                "audience": "patrons",
            }
        ),
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["body"] == "<b>hi</b>"
    refused = client_for(librarian_b).post(
        "/api/knowledge/articles/",
        data=json.dumps({"library": library_a.pk, "title": "x", "body": "x"}),
        content_type="application/json",
    )
    assert refused.status_code == 403
    url = f"/api/knowledge/public/{library_a.code}/search/"
    found = client.get(url, {"q": "VPN"}).json()["results"]
    assert {r["title"] for r in found} == {"VPN 使用方法", "值班 VPN 内部说明"}
    assert all(r["passage"] for r in found)
    assert client_for(librarian_b).get(url, {"q": "VPN"}).json()["results"] == []
    assert client.get("/api/knowledge/public/nope/search/", {"q": "VPN"}).status_code == 404
