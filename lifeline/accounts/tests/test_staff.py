"""Staff accounts: throttled password sign-in, the TOTP second factor, API tokens, sessions."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from lifeline.conftest import PASSWORD, client_for
from lifeline.core.models import ApiToken, AuditLog


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def throttled(settings: Any) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.django_db
def test_password_sign_in_works_and_redirects(client: Client, librarian_a: Any) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": "librarian_a", "password": PASSWORD, "next": "/accounts/tokens/"},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    assert client.session["_auth_user_id"] == str(librarian_a.pk)


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_account(
    client: Client, librarian_a: Any, throttled: None
) -> None:
    for attempt in range(3):
        response = client.post(
            "/accounts/login/", {"username": "librarian_a", "password": "wrong password!"}
        )
        assert response.status_code == (200 if attempt < 2 else 429)
    # Even the right password is refused now, with a page saying why.
    response = client.post(
        "/accounts/login/",
        {"username": "librarian_a", "password": PASSWORD},
        HTTP_COOKIE="lifeline_lang=en",
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address with the same user name is not locked out with it.
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert (
        other.post(
            "/accounts/login/", {"username": "librarian_a", "password": PASSWORD}
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_admin_login_goes_through_our_sign_in(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/")


@pytest.mark.django_db
def test_totp_setup_then_sign_in_needs_the_code(admin_a: Any) -> None:
    staff = client_for(admin_a)
    assert staff.get("/accounts/two-factor/").status_code == 200
    assert staff.post("/accounts/two-factor/", {"action": "start"}).status_code == 302
    page = staff.get("/accounts/two-factor/").content.decode()
    assert (
        "<svg" in page and "otpauth" not in page
    )  # the QR is drawn here, the URI never leaves in clear
    device = TOTPDevice.objects.get(user=admin_a)
    wrong = staff.post(
        "/accounts/two-factor/",
        {"action": "confirm", "token": "000000" if code_for(device) != "000000" else "111111"},
    )
    assert wrong.status_code == 200 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    device.refresh_from_db()
    device.throttle_reset()
    response = staff.post("/accounts/two-factor/", {"action": "confirm", "token": code_for(device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed

    # A fresh sign-in: the password alone does not sign in.
    browser = Client()
    response = browser.post(
        "/accounts/login/",
        {"username": "admin_a", "password": PASSWORD, "next": "/accounts/tokens/"},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in browser.session
    assert browser.get("/accounts/tokens/").status_code == 302
    bad = browser.post("/accounts/login/code/", {"token": "12345x"})
    assert bad.status_code == 200 and "_auth_user_id" not in browser.session
    device = TOTPDevice.objects.get(pk=device.pk)
    device.throttle_reset()
    # The code used to confirm cannot be used again (django-otp refuses a reused time step).
    device.last_t = -1
    device.save()
    response = browser.post("/accounts/login/code/", {"token": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    assert browser.session["_auth_user_id"] == str(admin_a.pk)
    assert browser.get("/accounts/tokens/").status_code == 200


@pytest.mark.django_db
def test_code_step_without_password_step_goes_back_to_login(client: Client) -> None:
    response = client.post("/accounts/login/code/", {"token": "123456"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


@pytest.mark.django_db
def test_tokens_page_lists_issues_and_revokes(
    admin_a: Any, librarian_a: Any, librarian_b: Any
) -> None:
    mine, _ = ApiToken.issue(librarian_a, "harvester")
    theirs, _ = ApiToken.issue(librarian_b, "other library's script")
    page = client_for(librarian_a)
    body = page.get("/accounts/tokens/").content.decode()
    assert "harvester" in body and "other library" not in body

    created = page.post("/accounts/tokens/", {"name": "sushi import", "expires_in": "30"})
    assert created.status_code == 200
    assert (
        created["Cache-Control"].startswith("max-age=0") or "no-store" in created["Cache-Control"]
    )
    token = ApiToken.objects.get(name="sushi import")
    secret = created.content.decode().split('<code class="secret">')[1].split("<")[0]
    assert ApiToken.hash(secret) == token.digest and token.expires_at is not None

    # librarian_a cannot revoke another library's token; the library admin can revoke librarian_a's.
    assert page.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client_for(admin_a).post(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert AuditLog.objects.filter(message__contains="revoked").exists()
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # A revoked token no longer opens the API.
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/schema/").status_code == 200
    assert page.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/schema/").status_code == 401


@pytest.mark.django_db
def test_tokens_page_is_for_staff_only(patron_a: Any, stranger: Any, client: Client) -> None:
    assert client.get("/accounts/tokens/").status_code == 302
    assert client_for(patron_a).get("/accounts/tokens/").status_code == 403
    assert client_for(stranger).post("/accounts/tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_sessions_expire(librarian_a: Any, client: Client) -> None:
    client.post("/accounts/login/", {"username": "librarian_a", "password": PASSWORD})
    morsel = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(morsel["max-age"]) == settings.SESSION_COOKIE_AGE
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    session = client.session
    session.set_expiry(-1)  # as if SESSION_COOKIE_AGE had passed
    session.save()
    assert client.get("/accounts/tokens/").status_code == 302


@pytest.mark.django_db
def test_password_validators_refuse_weak_passwords(librarian_a: Any) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["12345678901", "password123", "librarian_a1"]:
        with pytest.raises(ValidationError):
            validate_password(weak, get_user_model()(username="librarian_a"))
