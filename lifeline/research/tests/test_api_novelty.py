"""The novelty-search API (`/api/research/novelty/`): staff of the library only, narrowed like
the pages, documented in the OpenAPI schema; hostile input is a 400, never a 500."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.research.choices import Status
from lifeline.research.models import NoveltyDocument, NoveltyRequest

URL = "/api/research/novelty/"


def _request(library: Library, patron: Any, title: str, status: str = Status.SUBMITTED) -> Any:
    req = NoveltyRequest.objects.create(
        library=library,
        patron=patron,
        patron_name="张三",
        contact="13900000000",
        title=title,
        purpose="project",
        scope="domestic",
        tech_points="t",
        novelty_points="n",
        keywords_zh="落叶松",
        status=status,
    )
    NoveltyDocument.objects.create(
        request=req, citation="王五. 落叶松. 林业科学, 2019.", relevance="close", comparison="x"
    )
    return req


def test_staff_see_their_library_with_documents(
    library_a: Library,
    library_b: Library,
    librarian_a: Any,
    librarian_b: Any,
    patron_a: Any,
    django_assert_max_num_queries: Any,
) -> None:
    mine = _request(library_a, patron_a, "落叶松人工林", Status.PREPARED)
    _request(library_a, patron_a, "红松", Status.SUBMITTED)
    _request(library_b, None, "B's project")
    client = client_for(librarian_a)
    with django_assert_max_num_queries(12):
        data = client.get(URL).json()
    assert data["count"] == 2 and {r["library"] for r in data["results"]} == {"nefu"}
    row = client.get(f"{URL}{mine.pk}/").json()
    assert row["title"] == "落叶松人工林" and row["documents"][0]["relevance"] == "close"
    assert "contact" not in row and "patron_name" not in row  # personal data stays on the pages
    prepared = client.get(URL, {"status": "prepared"}).json()
    assert [r["id"] for r in prepared["results"]] == [mine.pk]
    # Another library's librarian: nothing of A's, and A's row is a 404.
    other = client_for(librarian_b)
    assert [r["title"] for r in other.get(URL).json()["results"]] == ["B's project"]
    assert other.get(f"{URL}{mine.pk}/").status_code == 404


def test_outsiders_and_hostile_input(
    library_a: Library, patron_a: Any, stranger: Any, librarian_a: Any
) -> None:
    req = _request(library_a, patron_a, "落叶松")
    assert Client().get(URL).status_code in (401, 403)
    assert client_for(patron_a).get(URL).status_code == 403  # the patron uses the pages
    assert client_for(stranger).get(f"{URL}{req.pk}/").status_code == 403
    staff = client_for(librarian_a)
    for status in ("issued' OR 1=1--", "x" * 5000, "\x00"):
        assert staff.get(URL, {"status": status}).status_code == 400
    for bad in ("abc", "99999999999999999999999999999", "-1"):
        assert staff.get(f"{URL}{bad}/").status_code == 404
    # Read-only: no writes through the API.
    assert staff.post(URL, {"title": "x"}).status_code in (403, 405)
    assert staff.delete(f"{URL}{req.pk}/").status_code in (403, 405)
    assert NoveltyRequest.objects.filter(library=library_a).count() == 1


def test_in_the_openapi_schema(library_a: Any, admin_a: Any) -> None:
    schema = json.loads(client_for(admin_a).get("/api/schema/?format=json").content)
    assert "/api/research/novelty/" in schema["paths"]
    assert "/api/research/novelty/{id}/" in schema["paths"]
