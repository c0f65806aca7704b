"""Registry API: the public A–Z and staff CRUD, validation, cross-library writes, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lifeline.core.models import AuditLog, Library
from lifeline.core.tests.test_api_support import Registry, api_for, make_registry, token_client
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def reg_a(library_a: Library) -> Registry:
    return make_registry(library_a, "A")


@pytest.fixture
def reg_b(library_b: Library) -> Registry:
    return make_registry(library_b, "B")


PUBLIC = "/api/registry/public/{code}/resources/"


# --- public A–Z ----------------------------------------------------------------------------


def test_public_list_needs_no_sign_in_and_shows_top_level_only(
    reg_a: Registry, reg_b: Registry
) -> None:
    r = api_for(None).get(PUBLIC.format(code="nefu"))
    assert r.status_code == 200
    keys = [row["key"] for row in r.json()["results"]]
    assert keys == ["cnki-A"]  # the sub-database hangs under its parent; B's never appears
    row = r.json()["results"][0]
    assert row["works_from_home"] is True
    assert row["content_types"] == ["journals", "theses"]
    assert row["category"]["name"] == "综合A"
    assert "contact_name" not in str(r.json()) and "010-12345678" not in r.content.decode()


def test_public_list_unknown_library_is_404(db: Any) -> None:
    assert api_for(None).get(PUBLIC.format(code="nowhere")).status_code == 404


def test_public_filters(reg_a: Registry) -> None:
    lib = reg_a.library
    Resource.objects.create(
        library=lib, key="sd", name="ScienceDirect", language="foreign", content_types=",ebooks,"
    )
    client = api_for(None)
    url = PUBLIC.format(code="nefu")

    def keys(**params: Any) -> list[str]:
        r = client.get(url, params)
        assert r.status_code == 200, r.content
        return [row["key"] for row in r.json()["results"]]

    assert keys(language="foreign") == ["sd"]
    assert keys(content_type="theses") == ["cnki-A"]
    assert keys(works_from_home="true") == ["cnki-A"]
    assert keys(works_from_home="false") == ["sd"]
    assert keys(category=reg_a.category.pk) == ["cnki-A"]
    assert keys(q="学位") == ["cnki-A"]
    assert keys(q="ＳＣＩＥＮＣＥ") == ["sd"]  # full-width letters find ASCII names
    assert keys(ordering="-key") == ["sd", "cnki-A"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("language", "klingon"),
        ("content_type", "scrolls"),
        ("works_from_home", "maybe"),
        ("category", "x"),
    ],
)
def test_public_bad_filter_is_400_naming_the_parameter(
    reg_a: Registry, param: str, value: str
) -> None:
    r = api_for(None).get(PUBLIC.format(code="nefu"), {param: value})
    assert r.status_code == 400
    assert param in r.json()


def test_public_detail_orders_routes_and_hides_accounts_from_anonymous(reg_a: Registry) -> None:
    r = api_for(None).get(PUBLIC.format(code="nefu") + "cnki-A/")
    assert r.status_code == 200
    data = r.json()
    kinds = [route["kind"] for route in data["routes"]]
    assert kinds == [
        RouteKind.CARSI,
        RouteKind.ACCOUNT,
    ]  # CARSI first, whatever the priority numbers
    assert data["routes"][0]["link"].startswith(
        "https://fsso.cnki.net/Shibboleth.sso/Login?entityID=https%3A%2F%2Fidp.nefu"
    )
    account = data["routes"][1]
    assert account["account_password"] is None and account["account_username"] is None
    assert account["sign_in_required"] is True
    assert "S3cret-pass" not in r.content.decode()
    assert data["vendor"] == "知网A"
    assert "support@cnki.example" not in r.content.decode()
    assert [c["key"] for c in data["children"]] == ["cnki-A-cjfd"]


def test_public_detail_shows_account_to_own_patron_only(
    reg_a: Registry, patron_a: Any, stranger: Any, librarian_b: Any
) -> None:
    url = PUBLIC.format(code="nefu") + "cnki-A/"
    for user in (stranger, librarian_b):
        body = api_for(user).get(url).content.decode()
        assert "S3cret-pass" not in body
    data = api_for(patron_a).get(url).json()
    assert data["routes"][1]["account_password"] == "S3cret-pass"
    assert data["routes"][1]["sign_in_required"] is False


def test_public_detail_in_english(reg_a: Registry) -> None:
    r = api_for(None).get(PUBLIC.format(code="nefu") + "cnki-A/?lang=en")
    assert r.json()["name"] == "CNKI A"
    assert r.json()["routes"][0]["kind_label"] == "CARSI one-click login"


def test_public_list_query_count_is_flat(
    reg_a: Registry, django_assert_max_num_queries: Any
) -> None:
    lib = reg_a.library
    for i in range(30):
        res = Resource.objects.create(
            library=lib, key=f"r{i}", name=f"库{i}", category=reg_a.category
        )
        AccessRoute.objects.create(resource=res, kind=RouteKind.VPN, url="https://vpn.example.edu/")
    with django_assert_max_num_queries(4):
        r = api_for(None).get(PUBLIC.format(code="nefu"), {"limit": 100})
    assert r.json()["count"] == 31


def test_public_detail_query_count(reg_a: Registry, django_assert_max_num_queries: Any) -> None:
    for i in range(10):
        AccessRoute.objects.create(
            resource=reg_a.resource, kind=RouteKind.VPN, url=f"https://vpn{i}.example.edu/"
        )
    with django_assert_max_num_queries(5):
        r = api_for(None).get(PUBLIC.format(code="nefu") + "cnki-A/")
    assert len(r.json()["routes"]) == 12


# --- staff CRUD ------------------------------------------------------------------------------


def test_librarian_creates_resource_with_sub_database(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    payload = {
        "library": reg_a.library.pk,
        "key": "wanfang",
        "name": "万方数据",
        "vendor": reg_a.vendor.pk,
        "category": reg_a.category.pk,
        "content_types": ["journals", "patents"],
        "price": "12000.00",
        "subscription_start": "2026-01-01",
        "subscription_end": "2026-12-31",
    }
    r = client.post("/api/registry/resources/", payload, format="json")
    assert r.status_code == 201, r.content
    parent_id = r.json()["id"]
    assert Resource.objects.get(pk=parent_id).content_types == ",journals,patents,"
    r = client.post(
        "/api/registry/resources/",
        {
            "library": reg_a.library.pk,
            "key": "wanfang-thesis",
            "name": "万方学位",
            "parent": parent_id,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    r = client.get(f"/api/registry/resources/{parent_id}/")
    assert [c["key"] for c in r.json()["children"]] == ["wanfang-thesis"]
    r = client.patch(
        f"/api/registry/resources/{parent_id}/", {"name": "万方数据知识服务平台"}, format="json"
    )
    assert r.status_code == 200 and r.json()["name"] == "万方数据知识服务平台"
    assert client.delete(f"/api/registry/resources/{parent_id}/").status_code == 204
    assert not Resource.objects.filter(key__startswith="wanfang").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"subscription_start": "2026-12-31", "subscription_end": "2026-01-01"},
            "subscription_end",
        ),
        ({"homepage": "not a url"}, "homepage"),
        ({"content_types": ["scrolls"]}, "content_types"),
        ({"price": "-1"}, "price"),
        ({"key": "cnki-A"}, "__all__"),  # duplicate key in the library
        ({"key": "has space"}, "key"),
    ],
)
def test_resource_validation_is_400_with_field_messages(
    reg_a: Registry, librarian_a: Any, payload: dict[str, Any], field: str
) -> None:
    body = {"library": reg_a.library.pk, "key": "new", "name": "新库", **payload}
    r = api_for(librarian_a).post("/api/registry/resources/", body, format="json")
    assert r.status_code == 400, r.content
    errors = r.json()
    assert field in errors or (
        field == "__all__" and ("non_field_errors" in errors or "key" in errors)
    ), errors
    assert not Resource.objects.filter(key__in=["new", "has space"]).exists()


def test_route_validation(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    base = {"resource": reg_a.resource.pk}
    cases = [
        ({"kind": "campus_ip", "ip_ranges": "10.0.0.0/8\n999.1.1.1"}, "ip_ranges", "999.1.1.1"),
        ({"kind": "free_access", "url": "https://trial.example.com/"}, "ends_on", ""),
        ({"kind": "vpn"}, "url", ""),
        (
            {
                "kind": "vpn",
                "url": "https://vpn.example/",
                "starts_on": "2026-05-01",
                "ends_on": "2026-04-01",
            },
            "ends_on",
            "",
        ),
        ({"kind": "teleport", "url": "https://x.example/"}, "kind", ""),
    ]
    for payload, field, named in cases:
        r = client.post("/api/registry/routes/", {**base, **payload}, format="json")
        assert r.status_code == 400, (payload, r.content)
        assert field in r.json(), (payload, r.json())
        assert named in str(r.json()[field])
    assert AccessRoute.objects.filter(resource=reg_a.resource).count() == 2


def test_route_password_is_write_only(reg_a: Registry, tech_a: Any) -> None:
    client = api_for(tech_a)
    r = client.get(f"/api/registry/routes/{reg_a.account_route.pk}/")
    assert r.status_code == 200
    assert "account_password" not in r.json() and r.json()["has_password"] is True
    r = client.patch(
        f"/api/registry/routes/{reg_a.account_route.pk}/",
        {"account_password": "N3w-pass"},
        format="json",
    )
    assert r.status_code == 200, r.content
    reg_a.account_route.refresh_from_db()
    assert reg_a.account_route.account_password == "N3w-pass"


def test_related_records_of_another_library_are_refused(
    reg_a: Registry, reg_b: Registry, librarian_b: Any
) -> None:
    client = api_for(librarian_b)
    # B's librarian names A's vendor and parent for a resource of B: unknown to B, so 400.
    r = client.post(
        "/api/registry/resources/",
        {
            "library": reg_b.library.pk,
            "key": "x",
            "name": "x",
            "vendor": reg_a.vendor.pk,
            "parent": reg_a.resource.pk,
        },
        format="json",
    )
    assert r.status_code == 400 and {"vendor", "parent"} <= set(r.json())
    # ...and cannot create in A by posting A's id.
    r = client.post(
        "/api/registry/resources/",
        {"library": reg_a.library.pk, "key": "x", "name": "x"},
        format="json",
    )
    assert r.status_code in (400, 403)
    r = client.post(
        "/api/registry/routes/",
        {"resource": reg_a.resource.pk, "kind": "vpn", "url": "https://v.example/"},
        format="json",
    )
    assert r.status_code in (400, 403)
    assert not Resource.objects.filter(key="x").exists()
    assert AccessRoute.objects.filter(resource=reg_a.resource).count() == 2


def test_staff_of_two_libraries_cannot_move_or_mix(
    reg_a: Registry, reg_b: Registry, librarian_a: Any
) -> None:
    from lifeline.core.models import Membership

    Membership.objects.create(user=librarian_a, library=reg_b.library, role="eresources")
    client = api_for(librarian_a)
    r = client.patch(
        f"/api/registry/resources/{reg_a.resource.pk}/",
        {"library": reg_b.library.pk},
        format="json",
    )
    assert r.status_code == 400 and "library" in r.json()
    r = client.patch(
        f"/api/registry/resources/{reg_a.resource.pk}/", {"vendor": reg_b.vendor.pk}, format="json"
    )
    assert r.status_code == 400 and "vendor" in r.json()
    r = client.patch(
        f"/api/registry/routes/{reg_a.route.pk}/", {"resource": reg_b.resource.pk}, format="json"
    )
    assert r.status_code == 400 and "resource" in r.json()
    reg_a.resource.refresh_from_db()
    assert (
        reg_a.resource.library_id == reg_a.library.pk
        and reg_a.resource.vendor_id == reg_a.vendor.pk
    )


def test_staff_filters_and_ordering(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    r = client.get("/api/registry/resources/", {"top_level": "true"})
    assert [row["key"] for row in r.json()["results"]] == ["cnki-A"]
    r = client.get("/api/registry/resources/", {"parent": reg_a.resource.pk})
    assert [row["key"] for row in r.json()["results"]] == ["cnki-A-cjfd"]
    r = client.get("/api/registry/routes/", {"kind": "account"})
    assert [row["id"] for row in r.json()["results"]] == [reg_a.account_route.pk]
    r = client.get("/api/registry/routes/", {"ordering": "-priority"})
    assert [row["id"] for row in r.json()["results"]] == [reg_a.route.pk, reg_a.account_route.pk]
    r = client.get("/api/registry/titles/", {"identifier": "10017488"})
    assert [row["id"] for row in r.json()["results"]] == [reg_a.title.pk]
    r = client.get("/api/registry/resources/", {"subscription_ends_before": "2026-13-01"})
    assert r.status_code == 400 and "subscription_ends_before" in r.json()
    r = client.get("/api/registry/resources/", {"limit": 1, "offset": 1, "ordering": "key"})
    assert r.json()["count"] == 2 and [row["key"] for row in r.json()["results"]] == ["cnki-A-cjfd"]


def test_titles_are_read_only(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    r = client.post(
        "/api/registry/titles/",
        {"resource": reg_a.resource.pk, "publication_title": "x"},
        format="json",
    )
    assert r.status_code == 405


@pytest.mark.parametrize(
    ("url", "make"),
    [
        (
            "/api/registry/resources/",
            lambda lib, i: Resource.objects.create(library=lib, key=f"k{i}", name=f"n{i}"),
        ),
        (
            "/api/registry/vendors/",
            lambda lib, i: Vendor.objects.create(library=lib, key=f"v{i}", name=f"v{i}"),
        ),
        (
            "/api/registry/routes/",
            lambda lib, i: AccessRoute.objects.create(
                resource=Resource.objects.create(library=lib, key=f"k{i}", name=f"n{i}"),
                kind="vpn",
                url="https://v.example/",
            ),
        ),
        (
            "/api/registry/titles/",
            lambda lib, i: lib.resources.first().titles.create(
                publication_title=f"t{i}", title_id=str(i)
            ),
        ),
        (
            "/api/registry/categories/",
            lambda lib, i: lib.categories.create(language="zh", name=f"c{i}"),
        ),
        ("/api/core/audit/", lambda lib, i: None),
    ],
)
def test_staff_list_query_count_is_flat(
    reg_a: Registry, librarian_a: Any, django_assert_max_num_queries: Any, url: str, make: Any
) -> None:
    for i in range(25):
        make(reg_a.library, i)
    client = api_for(librarian_a)
    client.get(url)  # warm the session
    # session + user + memberships + count + page (+ one prefetch)
    with django_assert_max_num_queries(7):
        r = client.get(url, {"limit": 100})
    assert (r.status_code == 200 and r.json()["count"] >= 25) or url.endswith("audit/")


def test_token_writes_are_audited_with_the_token_user(reg_a: Registry, librarian_a: Any) -> None:
    client, _token = token_client(librarian_a)
    r = client.patch(
        f"/api/registry/vendors/{reg_a.vendor.pk}/", {"phone": "010-87654321"}, format="json"
    )
    assert r.status_code == 200, r.content
    row = AuditLog.objects.filter(model="registry.Vendor", action="update").latest("pk")
    assert row.user == librarian_a
    assert row.actor.startswith("librarian_a (API ")
    assert row.library_id == reg_a.library.pk
    assert row.changed_fields()["phone"] == ("010-12345678", "010-87654321")
    # The actor ends with the request: a later change outside any request is the system's.
    Vendor.objects.filter(pk=reg_a.vendor.pk).get().save()
    reg_a.vendor.refresh_from_db()
    reg_a.vendor.notes = "x"
    reg_a.vendor.save()
    assert AuditLog.objects.latest("pk").actor == "system"


def test_delete_via_api_is_audited(reg_a: Registry, librarian_a: Any) -> None:
    pk = reg_a.child.pk
    assert api_for(librarian_a).delete(f"/api/registry/resources/{pk}/").status_code == 204
    row = AuditLog.objects.get(model="registry.Resource", action="delete", object_pk=str(pk))
    assert row.user == librarian_a and row.before["name"] == "中国学术期刊A"


def test_expired_subscription_dates_round_trip(reg_a: Registry, librarian_a: Any) -> None:
    r = api_for(librarian_a).patch(
        f"/api/registry/resources/{reg_a.resource.pk}/",
        {"subscription_end": str(dt.date(2027, 6, 30))},
        format="json",
    )
    assert r.status_code == 200 and r.json()["subscription_end"] == "2027-06-30"


@pytest.mark.parametrize(
    "path", ["public/p%C3%A7%C2%8B/resources/", "public/nefu/resources/a.b/", "nothing/here/"]
)
def test_unknown_api_paths_answer_json_404(reg_a: Registry, path: str) -> None:
    r = api_for(None).get(f"/api/registry/{path}")
    assert r.status_code == 404 and r["Content-Type"] == "application/json"
    assert r.json()["detail"] == "未找到。"


def test_huge_numbers_are_400_or_empty_never_500(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    r = client.get("/api/registry/routes/", {"resource": "81599735987090697985458176"})
    assert r.status_code == 400 and "resource" in r.json()
    r = client.get("/api/registry/routes/", {"offset": "1" + "0" * 30})
    assert r.status_code == 200 and r.json()["results"] == []
    assert client.get("/api/registry/routes/81599735987090697985458176/").status_code == 404


def test_public_list_is_cached_until_the_registry_changes(
    reg_a: Registry, django_assert_max_num_queries: Any, librarian_a: Any
) -> None:
    client = api_for(None)
    url = PUBLIC.format(code="nefu")
    first = client.get(url).json()
    with django_assert_max_num_queries(1):  # only the library (its registry version)
        assert client.get(url).json() == first
    assert client.get(url, {"lang": "en"}).json()["results"][0]["name"] == "CNKI A"  # per language
    api_for(librarian_a).patch(
        f"/api/registry/resources/{reg_a.resource.pk}/", {"name": "知网"}, format="json"
    )
    assert client.get(url, {"lang": "zh"}).json()["results"][0]["name"] == "知网"


def test_malformed_json_is_400_naming_the_position(reg_a: Registry, librarian_a: Any) -> None:
    r = api_for(librarian_a).post(
        "/api/registry/vendors/", data='{"name": "x",\n "key": }', content_type="application/json"
    )
    assert r.status_code == 400 and "line 2" in r.json()["detail"]
    assert not Vendor.objects.filter(name="x").exists()
