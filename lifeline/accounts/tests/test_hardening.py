"""Cookies, HTTPS, HSTS and CSRF: settings wired from the environment, and what requests see."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client

from lifeline.conftest import PASSWORD, client_for
from lifeline.core.middleware import CSP, policy_for


def settings_under(env: dict[str, str]) -> dict[str, Any]:
    """Import the settings in a fresh interpreter with `env`: what production would get."""
    code = (
        "import json, lifeline.settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
        "['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'LANGUAGE_COOKIE_SECURE', "
        "'SECURE_PROXY_SSL_HEADER', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_AGE', 'AXES_ENABLED']}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "LIFELINE_TESTING": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_deployment_gets_secure_cookies_hsts_and_throttling() -> None:
    https = settings_under(
        {
            "LIFELINE_SITE_URL": "https://lifeline.nefu.edu.cn",
            "LIFELINE_BEHIND_HTTPS_PROXY": "1",
            "LIFELINE_SESSION_SECONDS": "1800",
        }
    )
    assert (
        https["SESSION_COOKIE_SECURE"]
        and https["CSRF_COOKIE_SECURE"]
        and https["LANGUAGE_COOKIE_SECURE"]
    )
    assert https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert https["SECURE_HSTS_SECONDS"] == 31536000
    assert https["SESSION_COOKIE_AGE"] == 1800
    assert https["AXES_ENABLED"] is True
    plain = settings_under(
        {"LIFELINE_SITE_URL": "http://127.0.0.1:8000", "LIFELINE_SECURE_COOKIES": "0"}
    )
    assert not plain["SESSION_COOKIE_SECURE"] and plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.django_db
def test_behind_https_proxy_cookies_are_secure_and_hsts_is_sent(
    settings: Any, librarian_a: Any
) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    page = client.get("/accounts/login/")
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.cookies[settings.CSRF_COOKIE_NAME]["secure"]
    response = client.post("/accounts/login/", {"username": "librarian_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]


@pytest.mark.django_db
def test_forms_refuse_posts_without_csrf_token(librarian_a: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post(
            "/accounts/login/", {"username": "librarian_a", "password": PASSWORD}
        ).status_code
        == 403
    )
    strict.force_login(librarian_a)
    assert strict.post("/accounts/tokens/", {"name": "x"}).status_code == 403
    assert strict.post("/accounts/logout/").status_code == 403
    # With the token from the page, the same post works.
    page = strict.get("/accounts/tokens/")
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert (
        strict.post("/accounts/tokens/", {"name": "x", "csrfmiddlewaretoken": token}).status_code
        == 200
    )


@pytest.mark.django_db
def test_policies_by_kind_of_response(client: Client, admin_a: Any) -> None:
    assert policy_for("/lib/nefu/", "text/html; charset=utf-8") == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self';" in CSP
    assert policy_for("/api/registry/resources/", "application/json").startswith(
        "default-src 'none'"
    )
    api = client_for(admin_a).get("/api/schema/")
    assert api["Content-Security-Policy"].startswith("default-src 'none'")
    assert api["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "private" in client_for(admin_a).get("/accounts/tokens/")["Cache-Control"]
    admin = client_for(admin_a).get("/admin/")
    assert "style-src 'self' 'unsafe-inline'" in admin["Content-Security-Policy"]
    assert "script-src 'self';" in admin["Content-Security-Policy"]


@pytest.mark.django_db
def test_nul_in_query_parameters_is_a_clear_400(
    english: Client, admin_a: Any, library_a: Any
) -> None:
    api = client_for(admin_a).get("/api/core/libraries/?q=a%00b")
    assert api.status_code == 400
    assert api.json() == {"detail": "请求参数中含有不允许的 NUL 字符。"}
    page = english.get("/accounts/saml/login/?q=%00")
    assert page.status_code == 400
    assert "NUL character" in page.content.decode()
    assert "frame-ancestors" in page["Content-Security-Policy"]
