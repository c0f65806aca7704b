"""Staff-account domain functions: the TOTP second factor and API tokens."""

from __future__ import annotations

import base64
import datetime as dt
import math
from typing import Any

import segno
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from lifeline.accounts.choices import TokenState
from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import ApiToken
from lifeline.core.permissions import library_ids_for, user_can

OTP_ISSUER = "Lifeline"


def confirmed_totp(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def start_totp_setup(user: Any) -> TOTPDevice:
    """A fresh unconfirmed device; an older unconfirmed one goes (its QR may have leaked)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)


def pending_totp(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def qr_svg(device: TOTPDevice, user: Any) -> str:
    """The otpauth:// URI as an SVG QR code, drawn here: no QR web service sees the secret."""
    uri = device.config_url.replace("otpauth://totp/", f"otpauth://totp/{OTP_ISSUER}:", 1)
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff")


def secret_b32(device: TOTPDevice) -> str:
    """The key for typing in by hand, as authenticator apps expect it (base32, no padding)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def confirm_totp(device: TOTPDevice, token: str) -> bool:
    """Confirm the device when the app's first code matches (django-otp throttles guesses)."""
    if not device.verify_is_allowed()[0] or not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.write(AuditAction.ACTION, device.user, message="two-factor sign-in enabled")
    return True


def disable_totp(user: Any, token: str) -> bool:
    """Turning the second factor off needs a valid code: a stolen session alone cannot do it."""
    device = match_token(user, token.strip())
    if device is None:
        return False
    TOTPDevice.objects.filter(user=user).delete()
    audit.write(AuditAction.ACTION, user, message="two-factor sign-in disabled")
    return True


def throttle_wait(device: TOTPDevice | None, now: dt.datetime | None = None) -> int | None:
    """Seconds until `device` accepts another code after failed ones, or None when it does.

    django-otp refuses every code while it throttles, the right one too: saying "wrong code"
    then sends the user hunting for a clock problem (issue 21)."""
    if device is None:
        return None
    allowed, info = device.verify_is_allowed()
    if allowed or not info or "locked_until" not in info:
        return None
    left = (info["locked_until"] - (now or timezone.now())).total_seconds()
    return max(1, math.ceil(left))


def verify_second_factor(user: Any, token: str) -> Any:
    return match_token(user, token.strip())


# --- sign-in from one address ----------------------------------------------------------


def address_failures(address: str, now: dt.datetime | None = None) -> int:
    """Failed sign-ins from `address` within the cool-off, over every user name."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Sum

    since = (now or timezone.now()) - dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return int(total or 0)


def address_locked(request: Any) -> bool:
    from django.conf import settings

    from lifeline.core.clientip import client_ip

    if not settings.AXES_ENABLED:
        return False
    address = client_ip(request)
    limit = int(settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    return bool(address) and limit > 0 and address_failures(str(address)) >= limit


# --- API tokens -------------------------------------------------------------------------


def token_state(token: ApiToken) -> TokenState:
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def visible_tokens(user: Any) -> QuerySet[ApiToken]:
    """The user's own tokens, and those of staff in libraries the user administers."""
    if user.is_superuser:
        return ApiToken.objects.select_related("user").all()
    managed = library_ids_for(user, "core.manage")
    condition = Q(user=user)
    if managed:
        condition |= Q(user__memberships__library_id__in=managed, user__memberships__is_active=True)
    return ApiToken.objects.select_related("user").filter(condition).distinct()


def can_revoke(user: Any, token: ApiToken) -> bool:
    if token.user_id == user.pk or user.is_superuser:
        return True
    return any(
        user_can(user, m.library_id, "core.manage")
        for m in token.user.memberships.filter(is_active=True)
    )


def revoke_token(user: Any, token: ApiToken) -> None:
    token.revoke()
    audit.write(
        AuditAction.ACTION,
        token,
        message=f"API token {token.prefix}… revoked by {user.get_username()}",
    )


def issue_token(user: Any, name: str, days: int | None) -> tuple[ApiToken, str]:
    expires = timezone.now() + dt.timedelta(days=days) if days else None
    token, secret = ApiToken.issue(user, name, expires_at=expires)
    audit.write(AuditAction.ACTION, token, message=f"API token {token.prefix}… issued")
    return token, secret
