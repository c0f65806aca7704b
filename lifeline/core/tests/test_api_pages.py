"""Every list endpoint of the OpenAPI document has a bounded page (issue 21, finding 5).

`/api/delivery/requests/?limit=100000` answered 32 MB in 7.7 s and `limit=2**63` a 500: those
viewsets used DRF's `LimitOffsetPagination`, which has no maximum. The project's paginator
(`core.api_base.Pagination`) is now the default; this test reads the document, finds every
GET operation that answers a list, and checks both the class behind it and its answers to
absurd `limit` and `offset` values (capped or 400, never a 500 and never more than the maximum).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve
from rest_framework.pagination import LimitOffsetPagination

from lifeline.conftest import PASSWORD, client_for
from lifeline.core.api_base import Pagination
from lifeline.delivery.models import DeliveryRequest

pytestmark = pytest.mark.django_db
HUGE = ["100000", str(2**63), str(10**30), "9" * 5000, "-1", "²", "1e9", "0"]


def list_operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, operation) for each GET whose 200 answer is a page or an array."""
    found = []
    for path, item in schema["paths"].items():
        op = item.get("get")
        if not op:
            continue
        ok = op.get("responses", {}).get("200", {})
        body = ok.get("content", {}).get("application/json", {}).get("schema", {})
        ref = body.get("$ref", "")
        if body.get("type") == "array" or ref.rsplit("/", 1)[-1].startswith("Paginated"):
            found.append((path, op))
    return found


def fill(path: str, library: Any) -> str:
    return path.replace("{code}", library.code).replace("{library}", library.code)


def test_every_list_endpoint_is_paged_with_a_maximum(library_a: Any, patron_a: Any) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.edu", PASSWORD)
    client = client_for(admin)
    for n in range(3):
        DeliveryRequest.objects.create(library=library_a, title=f"Paper {n}", item_key=f"k{n}")
    schema = json.loads(client.get("/api/schema/?format=json").content)
    operations = list_operations(schema)
    paths = {p for p, _ in operations}
    # The endpoints the tester broke are among those checked.
    assert {"/api/delivery/requests/", "/api/health/incidents/", "/api/health/probes/"} <= paths
    problems: list[str] = []
    for path, op in operations:
        if "{" in fill(path, library_a):
            continue  # a nested list under an object: its class is checked below all the same
        url = fill(path, library_a)
        view = resolve(url).func
        cls = getattr(view, "cls", None)
        paginator = getattr(cls, "pagination_class", None)
        if paginator is None or not issubclass(paginator, Pagination):
            problems.append(f"{path}: paginated by {paginator}, not core.api_base.Pagination")
            continue
        if issubclass(paginator, LimitOffsetPagination) and not paginator.max_limit:
            problems.append(f"{path}: no max_limit")
        required = {
            p["name"]: p
            for p in op.get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        }
        base = {"library": str(library_a.pk), "start": "2020-01-01", "end": "2020-12-31"}
        query = {k: v for k, v in base.items() if k in required}
        for value in HUGE:
            for name in ("limit", "offset"):
                response = client.get(url, {**query, name: value})
                if response.status_code >= 500:
                    problems.append(f"{path}?{name}={value[:20]}: {response.status_code}")
                    continue
                if response.status_code == 200 and name == "limit":
                    data = response.json()
                    rows = data.get("results", data) if isinstance(data, dict) else data
                    if isinstance(rows, list) and len(rows) > Pagination.max_limit:
                        problems.append(f"{path}?limit={value[:20]}: {len(rows)} rows")
    assert not problems, "\n".join(problems)


def test_the_page_is_capped_not_refused(library_a: Any, patron_a: Any) -> None:
    """limit beyond the maximum gives the maximum: the page size the client sees says so."""
    admin = get_user_model().objects.create_superuser("root", "root@example.edu", PASSWORD)
    for n in range(3):
        DeliveryRequest.objects.create(library=library_a, title=f"Paper {n}", item_key=f"k{n}")
    client = client_for(admin)
    page = client.get("/api/delivery/requests/", {"limit": str(2**63)}).json()
    assert page["count"] == 3 and len(page["results"]) == 3
    page = client.get("/api/delivery/requests/", {"limit": "1", "offset": str(10**30)}).json()
    assert page["results"] == []
    paginator = Pagination()
    assert paginator.max_limit == 1000


# Lists a patron may read: their own delivery requests, and the public A–Z; their own theses;
# their library's open book-selection campaigns, their own recommendations and home deliveries.
PATRON_LISTS = {
    "/api/delivery/requests/",
    "/api/registry/public/{code}/resources/",
    "/api/theses/theses/",
    "/api/selection/campaigns/",
    "/api/selection/recommendations/",
    "/api/selection/home-deliveries/",
    "/api/outreach/attempts/",
}


def test_staff_lists_tell_a_patron_403_not_an_empty_page(library_a: Any, patron_a: Any) -> None:
    """Issue 21, finding 9: some staff APIs answered a patron 200 with an empty list."""
    admin = get_user_model().objects.create_superuser("root", "root@example.edu", PASSWORD)
    schema = json.loads(client_for(admin).get("/api/schema/?format=json").content)
    patron = client_for(patron_a)
    wrong = []
    for path, _op in list_operations(schema):
        url = fill(path, library_a)
        if "{" in url:
            continue
        status = patron.get(url).status_code
        expected = 200 if path in PATRON_LISTS else 403
        if status != expected:
            wrong.append(f"{path}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
