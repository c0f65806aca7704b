"""Issue 21, finding 9: a throttled second factor said "wrong or expired" even for the right
code. It now says how long to wait, with 429, and does not count the wait as another failure."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from lifeline.accounts.views import _too_many
from lifeline.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_a_throttled_code_says_wait(admin_a: Any) -> None:
    device = TOTPDevice.objects.create(user=admin_a, name="TOTP", confirmed=True)
    browser = Client()
    browser.post("/accounts/login/", {"username": "admin_a", "password": PASSWORD})
    wrong = "000000" if code_for(device) != "000000" else "111111"
    assert browser.post("/accounts/login/code/", {"token": wrong}).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # The right code, at once: refused, but with the reason and the wait.
    response = browser.post("/accounts/login/code/", {"token": code_for(device)})
    assert response.status_code == 429
    errors = response.context["form"].non_field_errors()
    with translation.override("zh-hans"):
        assert errors == [_too_many(1)] or errors == [_too_many(2)]
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # waiting is not another failure
    assert "_auth_user_id" not in browser.session
    # After the wait the right code signs in.
    device.throttle_reset()
    device.last_t = -1
    device.save()
    assert browser.post("/accounts/login/code/", {"token": code_for(device)}).status_code == 302
