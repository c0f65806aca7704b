"""Core API: libraries, /me/, API tokens (shown once, expiry, revocation), the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from django.utils import timezone
from openapi_spec_validator import validate

from lifeline.core.models import ApiToken, AuditLog, Library, Membership
from lifeline.core.tests.test_api_support import Registry, api_for, make_registry, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def reg_a(library_a: Library) -> Registry:
    return make_registry(library_a, "A")


def test_schema_is_valid_openapi_3_and_lists_every_endpoint(client: Any) -> None:
    r = client.get("/api/schema/?format=json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    validate(doc)  # raises on an invalid OpenAPI document
    paths = set(doc["paths"])
    for expected in [
        "/api/core/libraries/",
        "/api/core/me/",
        "/api/core/tokens/",
        "/api/core/tokens/{id}/",
        "/api/core/audit/",
        "/api/registry/public/{library_code}/resources/",
        "/api/registry/public/{library_code}/resources/{key}/",
        "/api/registry/vendors/",
        "/api/registry/categories/",
        "/api/registry/resources/{id}/",
        "/api/registry/routes/",
        "/api/registry/titles/",
    ]:
        assert expected in paths
    op = doc["paths"]["/api/registry/public/{library_code}/resources/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {
        "language",
        "category",
        "content_type",
        "works_from_home",
        "q",
        "limit",
        "offset",
        "ordering",
    } <= names
    assert {} in op["security"]  # anonymous allowed
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "404" in doc["paths"]["/api/registry/resources/{id}/"]["delete"]["responses"]


def test_schema_yaml_and_swagger_ui_served_without_cdn(client: Any) -> None:
    doc = yaml.safe_load(client.get("/api/schema/").content)
    assert doc["info"]["title"] == "Lifeline API"
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower()


def test_me_lists_memberships_and_patron(librarian_a: Any, patron_a: Any, library_b: Any) -> None:
    Membership.objects.create(user=librarian_a, library=library_b, role="leadership")
    data = api_for(librarian_a).get("/api/core/me/").json()
    assert data["username"] == "librarian_a" and data["patron"] is None
    roles = {(m["library"]["code"], m["role"]) for m in data["memberships"]}
    assert roles == {("nefu", "eresources"), ("hit", "leadership")}
    eres = next(m for m in data["memberships"] if m["role"] == "eresources")
    assert "registry.change" in eres["actions"]
    data = api_for(patron_a).get("/api/core/me/").json()
    assert data["memberships"] == [] and data["patron"]["library"]["code"] == "nefu"


def test_me_requires_sign_in(db: Any) -> None:
    r = api_for(None).get("/api/core/me/")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_libraries_only_own(
    library_a: Any, library_b: Any, librarian_a: Any, stranger: Any
) -> None:
    codes = [
        row["code"] for row in api_for(librarian_a).get("/api/core/libraries/").json()["results"]
    ]
    assert codes == ["nefu"]
    assert api_for(librarian_a).get(f"/api/core/libraries/{library_b.pk}/").status_code == 404
    # Not staff anywhere: told so (403), not handed an empty list (issue 21).
    assert api_for(stranger).get("/api/core/libraries/").status_code == 403


def test_token_created_once_used_and_revoked(librarian_a: Any) -> None:
    client = api_for(librarian_a)
    r = client.post("/api/core/tokens/", {"name": "ERM sync"}, format="json")
    assert r.status_code == 201, r.content
    secret = r.json()["token"]
    assert secret.startswith("ll_") and r.json()["prefix"] == secret[:10]
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert token.digest == ApiToken.hash(secret) and secret not in str(
        ApiToken.objects.values().get(pk=token.pk)
    )
    listed = client.get("/api/core/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["ERM sync"] and "token" not in listed[0]
    assert AuditLog.objects.filter(
        model="core.ApiToken", object_pk=str(token.pk), user=librarian_a
    ).exists()

    bearer = api_for(None)
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bearer.get("/api/core/me/").json()["username"] == "librarian_a"
    token.refresh_from_db()
    assert token.last_used_at is not None
    # A token cannot mint tokens.
    assert bearer.post("/api/core/tokens/", {"name": "child"}, format="json").status_code == 403

    assert client.delete(f"/api/core/tokens/{token.pk}/").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    r = bearer.get("/api/core/me/")
    assert r.status_code == 401 and "吊销" in r.json()["detail"]


def test_expired_token_is_refused(librarian_a: Any) -> None:
    client, token = token_client(librarian_a, expires_at=timezone.now() + dt.timedelta(hours=1))
    assert client.get("/api/core/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/core/me/").status_code == 401


def test_token_of_deactivated_user_is_refused(librarian_a: Any) -> None:
    client, _token = token_client(librarian_a)
    librarian_a.is_active = False
    librarian_a.save()
    assert client.get("/api/core/me/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer ll_nope", "Token ll_nope"])
def test_malformed_or_unknown_token_is_401(db: Any, header: str) -> None:
    client = api_for(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/core/me/").status_code == 401


def test_token_expiry_must_be_future_and_patrons_get_none(librarian_a: Any, patron_a: Any) -> None:
    r = api_for(librarian_a).post(
        "/api/core/tokens/", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, format="json"
    )
    assert r.status_code == 400 and "expires_at" in r.json()
    r = api_for(librarian_a).post("/api/core/tokens/", {"name": ""}, format="json")
    assert r.status_code == 400 and "name" in r.json()
    assert (
        api_for(patron_a).post("/api/core/tokens/", {"name": "x"}, format="json").status_code == 403
    )
    assert not ApiToken.objects.exists()


def test_tokens_of_others_are_invisible(librarian_a: Any, admin_a: Any) -> None:
    _c, token = token_client(admin_a)
    client = api_for(librarian_a)
    assert client.get("/api/core/tokens/").json()["results"] == []
    assert client.delete(f"/api/core/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_messages_in_chinese_by_default_and_english_on_request(reg_a: Registry) -> None:
    r = api_for(None).get("/api/core/audit/", {"since": "yesterday"})
    assert r.status_code == 401
    r = api_for(None).get("/api/registry/public/nefu/resources/", {"language": "klingon"})
    assert r.json()["language"] == ["“klingon”不在可选值之中：zh, foreign。"]
    r = api_for(None).get(
        "/api/registry/public/nefu/resources/", {"language": "klingon", "lang": "en"}
    )
    assert r.json()["language"] == ["“klingon” is not one of: zh, foreign."]
    bearer = api_for(None)
    bearer.credentials(HTTP_AUTHORIZATION="Bearer ll_nope")
    assert bearer.get("/api/core/me/").json()["detail"] == "令牌无效、已过期或已被吊销。"
