"""Per-library limits on anonymous API and form use: 429 + Retry-After; the campus's egress
addresses, signed-in users and token clients are not limited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core import ratelimit
from lifeline.core.models import Library


@pytest.fixture(autouse=True)
def fresh(settings: Any) -> Iterator[None]:
    settings.RATE_LIMITS = True
    cache.clear()
    ratelimit.forget()
    yield
    cache.clear()
    ratelimit.forget()


def limit(library: Library, **fields: Any) -> None:
    Library.objects.filter(pk=library.pk).update(**fields)
    ratelimit.forget()


@pytest.mark.django_db
def test_anonymous_api_is_limited_per_address(
    client: Client, library_a: Library, settings: Any
) -> None:
    settings.DEFAULT_LIBRARY = library_a.code
    limit(library_a, anon_api_per_minute=3)
    codes = [
        client.get("/api/registry/resources/", REMOTE_ADDR="203.0.113.7").status_code
        for _ in range(4)
    ]
    assert 429 not in codes[:3] and codes[3] == 429
    answer = client.get("/api/registry/resources/", REMOTE_ADDR="203.0.113.7")
    assert answer.status_code == 429 and answer["Content-Type"] == "application/json"
    assert 1 <= int(answer["Retry-After"]) <= 60 and answer.json()["detail"]
    # Another address has its own count.
    assert client.get("/api/registry/resources/", REMOTE_ADDR="203.0.113.8").status_code != 429


@pytest.mark.django_db
def test_campus_egress_signed_in_and_token_clients_are_not_limited(
    client: Client, library_a: Library, librarian_a: Any, settings: Any
) -> None:
    settings.DEFAULT_LIBRARY = library_a.code
    limit(library_a, anon_api_per_minute=1, rate_exempt_networks="202.118.0.0/16\n2001:db8::/32")
    for _ in range(5):
        assert client.get("/api/registry/resources/", REMOTE_ADDR="202.118.9.9").status_code != 429
        assert client.get("/api/registry/resources/", REMOTE_ADDR="2001:db8::5").status_code != 429
    staff = client_for(librarian_a)
    for _ in range(5):
        assert staff.get("/api/registry/resources/", REMOTE_ADDR="203.0.113.9").status_code != 429
        answer = client.get(
            "/api/registry/resources/", HTTP_AUTHORIZATION="Bearer nonsense", REMOTE_ADDR="1.2.3.4"
        )
        assert answer.status_code == 401


@pytest.mark.django_db
def test_anonymous_forms_are_limited_per_library(
    client: Client, library_a: Library, library_b: Library
) -> None:
    limit(library_a, anon_forms_per_hour=2)
    limit(library_b, anon_forms_per_hour=0)  # no limit
    url_a = reverse("health:report", args=[library_a.code])
    url_b = reverse("health:report", args=[library_b.code])
    codes = [client.post(url_a, {}, REMOTE_ADDR="198.51.100.1").status_code for _ in range(3)]
    assert 429 not in codes[:2] and codes[2] == 429
    page = client.post(url_a, {}, REMOTE_ADDR="198.51.100.1")
    assert page.status_code == 429 and 1 <= int(page["Retry-After"]) <= 3600
    assert "<html" in page.content.decode().lower()
    # Reading is never limited; library B set no limit.
    assert client.get(url_a, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert all(
        client.post(url_b, {}, REMOTE_ADDR="198.51.100.1").status_code != 429 for _ in range(5)
    )


@pytest.mark.django_db
def test_sign_in_is_not_form_use(client: Client, library_a: Library, settings: Any) -> None:
    settings.DEFAULT_LIBRARY = library_a.code
    limit(library_a, anon_forms_per_hour=1)
    for _ in range(3):
        answer = client.post(
            reverse("accounts:login"), {"username": "x", "password": "y"}, REMOTE_ADDR="5.6.7.8"
        )
        assert answer.status_code != 429


def test_windows_roll_over() -> None:
    cache.clear()
    t0 = 1_000_040.0  # 20 s into a minute
    assert [ratelimit.hit("k", 2, 60, now=t0) for _ in range(2)] == [0.0, 0.0]
    assert ratelimit.hit("k", 2, 60, now=t0 + 1) == pytest.approx(39.0)
    assert ratelimit.hit("k", 2, 60, now=t0 + 40) == 0.0  # the next minute


@pytest.mark.django_db
def test_hostile_input_never_500(client: Client, library_a: Library, settings: Any) -> None:
    settings.DEFAULT_LIBRARY = library_a.code
    limit(library_a, anon_api_per_minute=2, anon_forms_per_hour=2)
    for addr in ("", "not-an-ip", "x" * 500):
        for _ in range(3):
            assert client.get("/api/registry/resources/", REMOTE_ADDR=addr).status_code in {
                401,
                403,
                429,
            }
    assert client.post("/status/" + "z" * 40 + "/report/", {}).status_code in {404, 429}
    assert len(ratelimit._memo) < 10


@pytest.mark.django_db
def test_behind_a_proxy_each_client_has_its_own_count(
    client: Client, library_a: Library, settings: Any
) -> None:
    """Behind the trusted reverse proxy REMOTE_ADDR is the proxy: the limit and the campus
    exemption read the client's address through core.clientip (issue 16)."""
    settings.DEFAULT_LIBRARY = library_a.code
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    limit(library_a, anon_api_per_minute=1, rate_exempt_networks="202.118.0.0/16")

    def get(forwarded: str) -> int:
        return client.get(
            "/api/registry/resources/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert get("203.0.113.7") != 429 and get("203.0.113.7") == 429
    assert get("203.0.113.8") != 429  # another patron behind the same proxy
    assert all(get("202.118.3.4") != 429 for _ in range(3))  # the campus NAT
