"""Pages and API: the two-step patron form (no JS), both languages, the staff queue, the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.models import ApiToken
from lifeline.delivery import services
from lifeline.delivery.choices import Status
from lifeline.delivery.models import DeliveryRequest

from .conftest import ARTICLE

pytestmark = pytest.mark.django_db
GBT = "张三, 李四. 森林碳汇研究[J]. 林业科学, 2020, 12(3): 45-52."


def test_two_step_form_without_js(library_a: Any, patron_a: Any) -> None:
    client = client_for(patron_a)
    url = reverse("delivery:new", args=[library_a.code])
    page = client.get(url).content.decode()
    assert "粘贴" in page  # Chinese first
    # Step 1: the citation is read into fields the patron can correct.
    page = client.post(url, {"parse": "1", "citation": GBT}).content.decode()
    assert 'value="森林碳汇研究"' in page and 'value="林业科学"' in page and 'value="2020"' in page
    assert '<option value="chinese_article" selected>' in page
    token = page.split('name="form_token" value="')[1].split('"')[0]
    # Step 2: the confirmed fields are sent; a second click with the same form gives the same
    # request.
    data = {
        "doc_type": "chinese_article",
        "title": "森林碳汇研究",
        "source": "林业科学",
        "year": "2020",
        "volume": "12",
        "issue": "3",
        "pages": "45-52",
        "citation": GBT,
        "form_token": token,
    }
    first = client.post(url, data)
    second = client.post(url, data)
    assert (
        first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    )
    assert DeliveryRequest.objects.count() == 1
    detail = client.get(first["Location"]).content.decode()
    assert "森林碳汇研究" in detail and "已提交" in detail


def test_form_in_english_and_bad_identifiers(library_a: Any, patron_a: Any, english: Any) -> None:
    english.force_login(patron_a)
    url = reverse("delivery:new", args=[library_a.code])
    page = english.post(url, {"parse": "1", "citation": "qwerty uiop"}).content.decode()
    assert "This does not look like a citation" in page
    response = english.post(
        url, {"doc_type": "foreign_article", "title": "X", "doi": "10.1038", "isbn": "123"}
    )
    page = response.content.decode()
    assert (
        response.status_code == 200
        and "is not a valid DOI" in page
        and "is not a valid ISBN" in page
    )
    assert DeliveryRequest.objects.count() == 0


def test_htmx_parse_returns_the_fields_only(library_a: Any, patron_a: Any) -> None:
    client = client_for(patron_a)
    page = client.post(
        reverse("delivery:new", args=[library_a.code]),
        {"parse": "1", "citation": GBT},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert page.startswith('<div id="request-fields">') and "<html" not in page


def test_queue_filters_batch_assign_and_queries(
    library_a: Any, patron_a: Any, delivery_a: Any, django_assert_max_num_queries: Any
) -> None:
    reqs = [
        services.submit(
            library_a, {**ARTICLE, "title": f"Paper {i}", "doc_type": t}, patron=patron_a
        )[0]
        for i, t in enumerate(["foreign_article", "thesis"] * 10)
    ]
    client = client_for(delivery_a)
    url = reverse("delivery:queue", args=[library_a.code])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(8):
        page = client.get(url).content.decode()
    assert page.count('data-href="') == 20 and "queue.js" in page and "<script>" not in page
    assert client.get(url, {"doc_type": "thesis"}).content.decode().count('data-href="') == 10
    response = client.post(url, {"ids": [reqs[0].pk, reqs[1].pk]})
    assert response.status_code == 302
    assert (
        DeliveryRequest.objects.filter(assignee=delivery_a, status=Status.IN_PROCESS).count() == 2
    )
    assert client.get(url, {"mine": "on"}).content.decode().count('data-href="') == 2
    DeliveryRequest.objects.filter(pk=reqs[2].pk).update(
        due_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    assert client.get(url, {"overdue": "on"}).content.decode().count('data-href="') == 1


def test_queue_is_staff_only(library_a: Any, patron_a: Any, librarian_b: Any) -> None:
    url = reverse("delivery:queue", args=[library_a.code])
    assert client_for(patron_a).get(url).status_code == 403
    assert client_for(librarian_b).get(url).status_code == 403


def test_dashboard_panel(library_a: Any, patron_a: Any, delivery_a: Any) -> None:
    services.submit(library_a, ARTICLE, patron=patron_a)
    page = client_for(delivery_a).get(reverse("core:dashboard")).content.decode()
    assert reverse("delivery:queue", args=[library_a.code]) in page


def test_api_is_idempotent(library_a: Any, patron_a: Any, client: Any) -> None:
    _, token = ApiToken.issue(patron_a, "app")
    url = "/api/delivery/requests/"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = client.post(
        url,
        {"title": "API paper", "doc_type": "thesis"},
        content_type="application/json",
        **headers,
    )
    again = client.post(
        url,
        {"title": "API paper", "doc_type": "thesis"},
        content_type="application/json",
        **headers,
    )
    assert (first.status_code, again.status_code) == (201, 200) and first.json()[
        "id"
    ] == again.json()["id"]
    bad = client.post(
        url,
        {"title": "x", "issn": "1234-5678"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert bad.status_code == 400 and "issn" in bad.json()
    listing = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert listing["count"] == 1
