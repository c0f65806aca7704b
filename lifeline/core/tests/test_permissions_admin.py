"""The Django admin under the same rules as the API: another library's records are a 404,
viewers read without changing, technical support changes routes and not resources."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from lifeline.conftest import client_for, make_staff
from lifeline.core.models import ApiToken, AuditLog, Library, Membership
from lifeline.core.tests.test_api_support import Registry, make_registry
from lifeline.registry.models import AccessRoute, Resource, Vendor

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


def client_of(request: pytest.FixtureRequest, who: str) -> Client:
    return Client() if who == "anonymous" else client_for(request.getfixturevalue(who))


@pytest.fixture
def world(reg_a: Registry, reg_b: Registry, patron_a: Any) -> dict[str, tuple[Any, str]]:
    """Per admin model: A's record and a marker text that only A's pages may show."""
    marker = make_staff("marker_a", reg_a.library, "subject")
    return {
        "registry/vendor": (reg_a.vendor, "知网A"),
        "registry/category": (reg_a.category, "综合A"),
        "registry/resource": (reg_a.resource, "中国知网A"),
        "registry/accessroute": (reg_a.route, "中国知网A"),
        "registry/kbarttitle": (reg_a.title, "林业科学A"),
        "core/library": (reg_a.library, "东北林业大学图书馆"),
        "core/membership": (Membership.objects.get(user=marker), "marker_a"),
        "core/patron": (patron_a.patron, "张三"),
        "core/auditlog": (
            AuditLog.objects.filter(library=reg_a.library, model="registry.Vendor").first(),
            "知网A",
        ),
    }


@pytest.mark.parametrize("who", PERSONAS)
def test_admin_changelists_and_change_pages(
    request: pytest.FixtureRequest, world: dict[str, tuple[Any, str]], who: str
) -> None:
    client = client_of(request, who)
    for model, (obj, marker) in world.items():
        changelist = f"/admin/{model}/"
        change = f"{changelist}{obj.pk}/change/"
        r = client.get(changelist)
        if who in {"anonymous", "stranger", "patron_a"}:
            assert r.status_code == 302 and "/admin/login/" in r["Location"], model
            assert client.get(change).status_code == 302
            continue
        assert r.status_code == 200, (model, r.status_code)
        assert (marker in r.content.decode()) == (who in STAFF_A), (who, model)
        r = client.get(change)
        if who in STAFF_A:
            assert r.status_code == 200, (who, model)
            assert marker in r.content.decode()
        else:
            assert r.status_code == 404, (who, model)
            assert marker not in r.content.decode()
        assert client.get(f"{changelist}{obj.pk}/delete/").status_code in (
            {200, 403} if who in STAFF_A else {404}
        )
        assert client.get(f"{changelist}{obj.pk}/history/").status_code == (
            200 if who in STAFF_A else 404
        )


def vendor_form(vendor: Vendor, **changes: Any) -> dict[str, Any]:
    data = {
        "library": vendor.library_id,
        "key": vendor.key,
        "name": vendor.name,
        "name_en": "",
        "website": "",
        "contact_name": vendor.contact_name,
        "phone": vendor.phone,
        "email": vendor.email,
        "wechat": "",
        "escalation_name": "",
        "escalation_phone": "",
        "escalation_email": "",
        "response_hours": 24,
        "preferred_language": "zh-hans",
        "notes": "",
    }
    return {**data, **changes}


def route_form(route: AccessRoute, **changes: Any) -> dict[str, Any]:
    data = {
        "resource": route.resource_id,
        "kind": route.kind,
        "label": "",
        "url": "",
        "ip_ranges": "",
        "sp_login_url": route.sp_login_url,
        "idp_entity_id": "",
        "target": route.target,
        "account_username": "",
        "account_password": "",
        "starts_on": "",
        "ends_on": "",
        "instructions": "",
        "instructions_en": "",
        "priority": 100,
        "is_active": "on",
    }
    return {**data, **changes}


@pytest.mark.parametrize("who", PERSONAS)
def test_admin_change_posts(
    request: pytest.FixtureRequest, reg_a: Registry, reg_b: Registry, who: str
) -> None:
    client = client_of(request, who)
    r = client.post(
        f"/admin/registry/vendor/{reg_a.vendor.pk}/change/", vendor_form(reg_a.vendor, name="改名")
    )
    changed_vendor = Vendor.objects.get(pk=reg_a.vendor.pk).name == "改名"
    assert changed_vendor == (who in {"admin_a", "librarian_a"})
    expected = {"anonymous": 302, "stranger": 302, "patron_a": 302, "librarian_b": 404}.get(
        who, 302 if changed_vendor else 403
    )
    assert r.status_code == expected, (who, r.status_code)

    r = client.post(
        f"/admin/registry/accessroute/{reg_a.route.pk}/change/", route_form(reg_a.route, priority=7)
    )
    changed_route = AccessRoute.objects.get(pk=reg_a.route.pk).priority == 7
    assert changed_route == (who in {"admin_a", "librarian_a", "tech_a"}), (
        who,
        r.status_code,
        r.content[:300],
    )


def test_tech_cannot_change_resource_in_admin(reg_a: Registry, tech_a: Any) -> None:
    client = client_for(tech_a)
    page = client.get(f"/admin/registry/resource/{reg_a.resource.pk}/change/")
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # read-only
    r = client.post(
        f"/admin/registry/resource/{reg_a.resource.pk}/change/",
        {"name": "x", "key": "x", "library": reg_a.library.pk},
    )
    assert r.status_code == 403
    assert Resource.objects.get(pk=reg_a.resource.pk).name == "中国知网A"


def test_librarian_b_cannot_add_in_a_via_admin(
    reg_a: Registry, reg_b: Registry, librarian_b: Any
) -> None:
    client = client_for(librarian_b)
    r = client.post(
        "/admin/registry/vendor/add/", vendor_form(reg_a.vendor, key="sneaky", name="sneaky")
    )
    assert r.status_code == 200 and "library" in r.context["adminform"].form.errors
    assert not Vendor.objects.filter(key="sneaky").exists()
    page = client.get("/admin/registry/vendor/add/").content.decode()
    assert f'value="{reg_a.library.pk}"' not in page  # A is not even offered


def test_admin_refuses_vendor_of_another_library(
    reg_a: Registry, reg_b: Registry, librarian_a: Any
) -> None:
    Membership.objects.create(user=librarian_a, library=reg_b.library, role="eresources")
    data = {
        "library": reg_a.library.pk,
        "key": reg_a.resource.key,
        "name": "中国知网A",
        "vendor": reg_b.vendor.pk,
        "language": "zh",
        "currency": "CNY",
        "text_mining": "unknown",
        "off_campus_allowed": "on",
        "is_active": "on",
        "routes-TOTAL_FORMS": "0",
        "routes-INITIAL_FORMS": "0",
        "routes-MIN_NUM_FORMS": "0",
        "routes-MAX_NUM_FORMS": "1000",
    }
    r = client_for(librarian_a).post(f"/admin/registry/resource/{reg_a.resource.pk}/change/", data)
    assert r.status_code == 200 and "vendor" in r.context["adminform"].form.errors
    assert Resource.objects.get(pk=reg_a.resource.pk).vendor_id == reg_a.vendor.pk


def test_bulk_delete_cannot_reach_a_library_one_only_views(
    reg_a: Registry, reg_b: Registry, librarian_a: Any
) -> None:
    Membership.objects.create(user=librarian_a, library=reg_b.library, role="leadership")
    client = client_for(librarian_a)
    r = client.post(
        "/admin/registry/vendor/",
        {"action": "delete_selected", "_selected_action": [reg_b.vendor.pk], "post": "yes"},
    )
    assert r.status_code == 403
    assert Vendor.objects.filter(pk=reg_b.vendor.pk).exists()


def test_library_admin_cannot_delete_the_library(library_a: Library, admin_a: Any) -> None:
    client = client_for(admin_a)
    assert client.get(f"/admin/core/library/{library_a.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/core/library/{library_a.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Library.objects.filter(pk=library_a.pk).exists()


def test_membership_admin_offers_no_user_of_another_library(
    library_a: Library, admin_a: Any, librarian_b: Any
) -> None:
    client = client_for(admin_a)
    r = client.post(
        "/admin/core/membership/add/",
        {"user": librarian_b.pk, "library": library_a.pk, "role": "admin", "is_active": "on"},
    )
    assert r.status_code == 200 and "user" in r.context["adminform"].form.errors
    assert not Membership.objects.filter(user=librarian_b, library=library_a).exists()


def test_api_tokens_in_admin_are_ones_own_and_stay_with_their_owner(
    admin_a: Any, librarian_a: Any
) -> None:
    mine, _secret = ApiToken.issue(librarian_a, "mine")
    theirs, _secret = ApiToken.issue(admin_a, "theirs")
    client = client_for(librarian_a)
    listing = client.get("/admin/core/apitoken/").content.decode()
    assert "mine" in listing and "theirs" not in listing
    assert client.get(f"/admin/core/apitoken/{theirs.pk}/change/").status_code == 404
    r = client.post(
        f"/admin/core/apitoken/{mine.pk}/change/",
        {"name": "renamed", "user": admin_a.pk, "expires_at_0": "", "expires_at_1": ""},
    )
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "renamed" and mine.user == librarian_a
    client.post("/admin/core/apitoken/", {"action": "revoke", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_routes_inline_follow_the_resource_library(
    reg_a: Registry, librarian_a: Any, leader_a: Any
) -> None:
    url = f"/admin/registry/resource/{reg_a.resource.pk}/change/"
    editable = client_for(librarian_a).get(url).content.decode()
    assert 'name="routes-0-kind"' in editable  # the librarian edits routes in place
    read_only = client_for(leader_a).get(url).content.decode()
    assert "fsso.cnki.net" in read_only and 'name="routes-0-kind"' not in read_only
