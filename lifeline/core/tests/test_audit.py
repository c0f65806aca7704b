"""The audit log: a row per create/update/delete with before/after, secrets masked, the actor
named whether the change came from a page, the admin, the API with a session or a token."""

from __future__ import annotations

from typing import Any

import pytest

from lifeline.conftest import client_for
from lifeline.core.audit import acting_as
from lifeline.core.models import AuditLog, Library
from lifeline.core.tests.test_api_support import Registry, api_for, make_registry, token_client
from lifeline.registry.models import AccessRoute, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def reg_a(library_a: Library) -> Registry:
    return make_registry(library_a, "A")


def rows(model: str, pk: Any) -> list[AuditLog]:
    return list(AuditLog.objects.filter(model=model, object_pk=str(pk)).order_by("pk"))


def test_api_create_update_delete_rows(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    r = client.post(
        "/api/registry/vendors/",
        {"library": reg_a.library.pk, "key": "vip", "name": "维普"},
        format="json",
    )
    pk = r.json()["id"]
    client.patch(f"/api/registry/vendors/{pk}/", {"response_hours": 4}, format="json")
    client.delete(f"/api/registry/vendors/{pk}/")
    create, update, delete = rows("registry.Vendor", pk)
    assert [create.action, update.action, delete.action] == ["create", "update", "delete"]
    assert {row.user for row in (create, update, delete)} == {librarian_a}
    assert {row.actor for row in (create, update, delete)} == {"librarian_a"}
    assert {row.library_id for row in (create, update, delete)} == {reg_a.library.pk}
    assert create.before is None and create.after["name"] == "维普"
    assert update.changed_fields() == {"response_hours": (24, 4)} or set(
        update.changed_fields()
    ) == {"response_hours", "updated_at"}
    assert delete.before["key"] == "vip" and delete.after is None


def test_route_password_masked_in_audit(reg_a: Registry, librarian_a: Any) -> None:
    client, _token = token_client(librarian_a)
    r = client.patch(
        f"/api/registry/routes/{reg_a.account_route.pk}/",
        {"account_password": "Top-Secret-2"},
        format="json",
    )
    assert r.status_code == 200
    row = rows("registry.AccessRoute", reg_a.account_route.pk)[-1]
    assert row.action == "update" and row.user == librarian_a
    assert (
        row.before["account_password"] == "••••"
        and row.after["account_password"] == "•••• (changed)"
    )
    every = str(list(AuditLog.objects.values_list("before", "after")))
    assert "Top-Secret-2" not in every and "S3cret-pass" not in every
    # ...and nor does the audit API hand it out.
    body = (
        api_for(librarian_a)
        .get("/api/core/audit/", {"model": "registry.AccessRoute"})
        .content.decode()
    )
    assert "Top-Secret-2" not in body and "••••" in body


def test_admin_change_is_audited_with_the_admin_user(reg_a: Registry, admin_a: Any) -> None:
    route = reg_a.route
    data = {
        "resource": route.resource_id,
        "kind": route.kind,
        "label": "校外一键登录",
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
    assert (
        client_for(admin_a)
        .post(f"/admin/registry/accessroute/{route.pk}/change/", data)
        .status_code
        == 302
    )
    row = rows("registry.AccessRoute", route.pk)[-1]
    assert row.action == "update" and row.user == admin_a
    assert row.changed_fields()["label"] == ("", "校外一键登录")


def test_commands_name_themselves(reg_a: Registry) -> None:
    with acting_as(None, "import-resources"):
        Vendor.objects.create(library=reg_a.library, key="ebsco", name="EBSCO")
    row = AuditLog.objects.filter(model="registry.Vendor").latest("pk")
    assert row.actor == "import-resources" and row.user is None


def test_no_row_when_nothing_changed(reg_a: Registry) -> None:
    before = AuditLog.objects.count()
    route = AccessRoute.objects.get(pk=reg_a.route.pk)
    route.save()
    assert AuditLog.objects.count() == before


def test_audit_api_filters(reg_a: Registry, librarian_a: Any) -> None:
    client = api_for(librarian_a)
    client.patch(f"/api/registry/vendors/{reg_a.vendor.pk}/", {"wechat": "new"}, format="json")
    data = client.get("/api/core/audit/", {"model": "registry.Vendor", "action": "update"}).json()
    assert data["count"] == 1
    row = data["results"][0]
    assert row["actor"] == "librarian_a" and row["changed_fields"]["wechat"] == [
        "cnki_support",
        "new",
    ]
    assert client.get("/api/core/audit/", {"actor": "librarian"}).json()["count"] == 1
    assert client.get("/api/core/audit/", {"since": "2999-01-01"}).json()["count"] == 0
    r = client.get("/api/core/audit/", {"action": "explode"})
    assert r.status_code == 400 and "action" in r.json()
    r = client.get("/api/core/audit/", {"since": "yesterday"})
    assert r.status_code == 400 and "since" in r.json()


def test_audit_is_read_only_over_the_api(reg_a: Registry, admin_a: Any) -> None:
    row = AuditLog.objects.filter(library=reg_a.library).first()
    client = api_for(admin_a)
    assert client.delete(f"/api/core/audit/{row.pk}/").status_code == 405
    assert (
        client.patch(f"/api/core/audit/{row.pk}/", {"actor": "nobody"}, format="json").status_code
        == 405
    )
    assert AuditLog.objects.filter(pk=row.pk, actor=row.actor).exists()
