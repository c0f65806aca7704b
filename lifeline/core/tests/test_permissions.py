"""The proof that nobody sees another library's data: every persona against every registry
model through the API, plus the Django admin of registry and core models.

Expected outcomes per persona (A's records):
  anonymous               401 on the staff API, the admin sends them to log in
  stranger, patron_a      403 on the staff API (no staff role), no admin
  staff of A              read everything of A; change only what their role allows
  librarian_b             404 on A's records (never data), cannot create in A
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lifeline.core.models import Library
from lifeline.core.tests.test_api_support import Registry, api_for, make_registry
from lifeline.registry.models import AccessRoute, Category, KbartTitle, Resource, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def reg_a(library_a: Library) -> Registry:
    return make_registry(library_a, "A")


@pytest.fixture
def reg_b(library_b: Library) -> Registry:
    return make_registry(library_b, "B")


PERSONAS = [
    "anonymous",
    "stranger",
    "patron_a",
    "admin_a",
    "librarian_a",
    "tech_a",
    "reference_a",
    "delivery_a",
    "leader_a",
    "librarian_b",
]
STAFF_A = {"admin_a", "librarian_a", "tech_a", "reference_a", "delivery_a", "leader_a"}
REGISTRY_EDITORS = {"admin_a", "librarian_a"}
ROUTE_EDITORS = {"admin_a", "librarian_a", "tech_a"}


def persona(request: pytest.FixtureRequest, name: str) -> Any:
    return None if name == "anonymous" else request.getfixturevalue(name)


# endpoint, the object of A, a valid creation payload in A, a valid change, who may change
ENDPOINTS: dict[
    str,
    tuple[
        str,
        Callable[[Registry], Any],
        Callable[[Registry], dict[str, Any]],
        dict[str, Any],
        set[str],
    ],
] = {
    "vendors": (
        "/api/registry/vendors/",
        lambda r: r.vendor,
        lambda r: {"library": r.library.pk, "key": "wanfang", "name": "万方"},
        {"phone": "110"},
        REGISTRY_EDITORS,
    ),
    "categories": (
        "/api/registry/categories/",
        lambda r: r.category,
        lambda r: {"library": r.library.pk, "language": "zh", "name": "新分类"},
        {"position": 3},
        REGISTRY_EDITORS,
    ),
    "resources": (
        "/api/registry/resources/",
        lambda r: r.resource,
        lambda r: {"library": r.library.pk, "key": "wanfang", "name": "万方"},
        {"name_en": "X"},
        REGISTRY_EDITORS,
    ),
    "routes": (
        "/api/registry/routes/",
        lambda r: r.route,
        lambda r: {"resource": r.resource.pk, "kind": "vpn", "url": "https://vpn.nefu.example/"},
        {"priority": 7},
        ROUTE_EDITORS,
    ),
}
MODELS = {"vendors": Vendor, "categories": Category, "resources": Resource, "routes": AccessRoute}


def expected_read(who: str) -> int:
    return {"anonymous": 401, "stranger": 403, "patron_a": 403, "librarian_b": 404}.get(who, 200)


def expected_write(who: str, editors: set[str], success: int) -> set[int]:
    if who == "anonymous":
        return {401}
    if who == "librarian_b":
        return {404}
    return {success} if who in editors else {403}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_matrix(
    request: pytest.FixtureRequest, reg_a: Registry, reg_b: Registry, who: str, endpoint: str
) -> None:
    url, get_obj, create, change, editors = ENDPOINTS[endpoint]
    model = MODELS[endpoint]
    obj = get_obj(reg_a)
    client = api_for(persona(request, who))
    detail = f"{url}{obj.pk}/"
    before = model.objects.count()

    # list: A's record appears exactly for A's staff
    r = client.get(url)
    if who in STAFF_A or who == "librarian_b":
        assert r.status_code == 200
        ids = {row["id"] for row in r.json()["results"]}
        assert (obj.pk in ids) == (who in STAFF_A)
        assert (get_obj(reg_b).pk in ids) == (who == "librarian_b")
    else:
        assert r.status_code == expected_read(who)
        assert str(obj) not in r.content.decode()

    # detail
    r = client.get(detail)
    assert r.status_code == expected_read(who)
    if r.status_code != 200:
        assert str(obj) not in r.content.decode()

    # create in A
    r = client.post(url, create(reg_a), format="json")
    allowed = expected_write(who, editors, 201)
    if who == "librarian_b":
        allowed = {400, 403}  # A's library / resource is unknown to B
    assert r.status_code in allowed, (r.status_code, r.content)
    assert model.objects.count() == before + (1 if r.status_code == 201 else 0)

    # update
    r = client.patch(detail, change, format="json")
    assert r.status_code in expected_write(who, editors, 200), (r.status_code, r.content)
    obj_after = model.objects.get(pk=obj.pk)
    field, value = next(iter(change.items()))
    assert (getattr(obj_after, field) == value) == (r.status_code == 200)
    r = client.put(detail, {}, format="json")
    assert r.status_code in expected_write(who, editors, 400)

    # delete
    r = client.delete(detail)
    assert r.status_code in expected_write(who, editors, 204)
    assert model.objects.filter(pk=obj.pk).exists() == (r.status_code != 204)


@pytest.mark.parametrize("who", PERSONAS)
def test_api_matrix_titles(
    request: pytest.FixtureRequest, reg_a: Registry, reg_b: Registry, who: str
) -> None:
    client = api_for(persona(request, who))
    url = "/api/registry/titles/"
    r = client.get(url)
    assert r.status_code == (200 if who in STAFF_A | {"librarian_b"} else expected_read(who))
    if r.status_code == 200:
        ids = {row["id"] for row in r.json()["results"]}
        assert (reg_a.title.pk in ids) == (who in STAFF_A)
    assert client.get(f"{url}{reg_a.title.pk}/").status_code == expected_read(who)
    # Titles change only through imports: a write is refused one way or another, never applied.
    assert client.post(
        url, {"resource": reg_a.resource.pk, "publication_title": "x"}, format="json"
    ).status_code in {401, 403, 405}
    assert client.delete(f"{url}{reg_a.title.pk}/").status_code in {401, 403, 404, 405}
    assert KbartTitle.objects.filter(pk=reg_a.title.pk).exists()


@pytest.mark.parametrize("who", PERSONAS)
def test_audit_api_matrix(
    request: pytest.FixtureRequest, reg_a: Registry, reg_b: Registry, who: str
) -> None:
    r = api_for(persona(request, who)).get("/api/core/audit/", {"limit": 1000})
    if who in STAFF_A or who == "librarian_b":
        libs = {row["library"] for row in r.json()["results"]}
        assert libs == ({reg_a.library.pk} if who in STAFF_A else {reg_b.library.pk})
    else:
        assert r.status_code == expected_read(who)


def test_superuser_sees_both(reg_a: Registry, reg_b: Registry, django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.edu", "x" * 12)
    r = api_for(root).get("/api/registry/resources/", {"top_level": "true"})
    assert {row["key"] for row in r.json()["results"]} == {"cnki-A", "cnki-B"}


def test_admin_of_a_cannot_touch_b(reg_a: Registry, reg_b: Registry, admin_a: Any) -> None:
    client = api_for(admin_a)
    assert client.get(f"/api/registry/resources/{reg_b.resource.pk}/").status_code == 404
    assert (
        client.patch(
            f"/api/registry/vendors/{reg_b.vendor.pk}/", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert client.delete(f"/api/registry/routes/{reg_b.route.pk}/").status_code == 404
    r = client.post(
        "/api/registry/categories/",
        {"library": reg_b.library.pk, "language": "zh", "name": "x"},
        format="json",
    )
    assert r.status_code == 400 and "library" in r.json()
    assert not Category.objects.filter(name="x").exists()


def test_editor_in_a_and_viewer_in_b_cannot_write_in_b(
    reg_a: Registry, reg_b: Registry, librarian_a: Any
) -> None:
    from lifeline.core.models import Membership

    Membership.objects.create(user=librarian_a, library=reg_b.library, role="leadership")
    client = api_for(librarian_a)
    assert (
        client.get(f"/api/registry/resources/{reg_b.resource.pk}/").status_code == 200
    )  # may read B
    r = client.post(
        "/api/registry/resources/",
        {"library": reg_b.library.pk, "key": "x", "name": "x"},
        format="json",
    )
    assert r.status_code == 403
    r = client.post(
        "/api/registry/routes/",
        {"resource": reg_b.resource.pk, "kind": "vpn", "url": "https://v.example/"},
        format="json",
    )
    assert r.status_code == 403
    assert (
        client.patch(
            f"/api/registry/resources/{reg_b.resource.pk}/", {"name": "x"}, format="json"
        ).status_code
        == 403
    )
    assert client.delete(f"/api/registry/vendors/{reg_b.vendor.pk}/").status_code == 403
    assert (
        not Resource.objects.filter(key="x").exists()
        and Vendor.objects.filter(pk=reg_b.vendor.pk).exists()
    )
