from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lifeline.analytics.importer import import_file
from lifeline.conftest import client_for
from lifeline.registry.models import Resource

pytestmark = pytest.mark.django_db


def test_reports_sources_and_usage(
    librarian_a: Any,
    librarian_b: Any,
    library_a: Any,
    library_b: Any,
    counter_data: Path,
    django_assert_max_num_queries: Any,
) -> None:
    resource = Resource.objects.create(library=library_a, key="db1", name="Database 1")
    import_file(library_a, (counter_data / "r51" / "DR_sample_r51.json").read_bytes(), "dr.json")
    import_file(
        library_b, (counter_data / "r51" / "PRP1_sample_r51.json").read_bytes(), "prp1.json"
    )
    client = client_for(librarian_a)
    with django_assert_max_num_queries(8):
        reports = client.get("/api/analytics/reports/").json()
    assert [r["report_id"] for r in reports["results"]] == ["DR"]
    assert reports["results"][0]["totals"]["Total_Item_Requests"] > 0
    sources = client.get("/api/analytics/sources/").json()["results"]
    assert any(s["resource"] == resource.pk for s in sources)
    usage = client.get(
        "/api/analytics/usage/",
        {"library": library_a.pk, "start": "2022-01-01", "end": "2022-12-31"},
    )
    rows = usage.json()["results"]
    assert (
        usage.status_code == 200
        and rows[0]["resource"] == resource.pk
        and rows[0]["uses"] > 0
        and rows[0]["denials"] > 0
    )
    assert (
        client.get(
            "/api/analytics/usage/",
            {"library": library_b.pk, "start": "2022-01-01", "end": "2022-12-31"},
        ).status_code
        == 404
    )
    assert client.get("/api/analytics/usage/", {"library": library_a.pk}).status_code == 400
    assert client.get("/api/analytics/harvests/").status_code == 200
    assert client.post("/api/analytics/reports/", {}).status_code in (403, 405)


def test_title_holdings(
    librarian_a: Any,
    librarian_b: Any,
    library_a: Any,
    counter_data: Path,
    django_assert_max_num_queries: Any,
) -> None:
    from lifeline.analytics.services import match_titles
    from lifeline.registry.models import KbartTitle

    package = Resource.objects.create(library=library_a, key="pkg", name="Package")
    KbartTitle.objects.create(
        resource=package, publication_title="Title 2", online_identifier="1234-1234"
    )
    import_file(library_a, (counter_data / "r51" / "TR_sample_r51.tsv").read_bytes(), "tr.tsv")
    match_titles(library_a)
    client = client_for(librarian_a)
    with django_assert_max_num_queries(8):
        rows = client.get("/api/analytics/holdings/").json()["results"]
    assert [(r["title"], r["resource"], r["identifier"]) for r in rows] == [
        ("Title 2", package.pk, "1234-1234")
    ]
    assert client_for(librarian_b).get("/api/analytics/holdings/").json()["results"] == []
