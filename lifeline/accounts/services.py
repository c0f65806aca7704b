"""Account domain functions: the TOTP second factor, API tokens, and patrons' e-mail."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import secrets
from typing import Any

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from lifeline.accounts.choices import TokenState
from lifeline.accounts.models import PatronMail
from lifeline.accounts.signals import mail_verified
from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import ApiToken
from lifeline.core.notify import notify_email
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


# --- patrons' e-mail (CARSI) ------------------------------------------------------------
# The verified address is kept in `user.email` too: that is where every app that writes to a
# patron (delivery's notices among them) reads it, through `patron_mail` or the user record.


def patron_mail(user: Any) -> str:
    """The patron's verified e-mail address ('' when there is none yet)."""
    record = PatronMail.objects.filter(user_id=user.pk, verified_at__isnull=False).first()
    return record.address if record is not None else (user.email or "")


def _set_user_email(user: Any, address: str) -> None:
    if user.email != address:
        user.email = address
        user.save(update_fields=["email"])


def record_released_mail(user: Any, address: str, now: dt.datetime | None = None) -> bool:
    """The IdP released `mail`: it vouches for it, so it is verified and kept current."""
    now = now or timezone.now()
    address = address.strip()[:254]
    try:
        validate_email(address)
    except ValidationError:
        return False
    record, _created = PatronMail.objects.get_or_create(user=user)
    if record.address != address or not record.from_idp or record.verified_at is None:
        record.address, record.from_idp, record.verified_at = address, True, now
        record.pending_address, record.token_hash = "", ""
        record.save()
    _set_user_email(user, address)
    mail_verified.send(sender=PatronMail, user=user, address=address)
    return True


def needs_mail(user: Any) -> bool:
    """A CARSI patron without an address who has not been asked yet (asked once only)."""
    if not user.federated_identities.exists():
        return False
    record = PatronMail.objects.filter(user=user).first()
    return record is None or (record.verified_at is None and record.asked_at is None)


def mark_asked(user: Any, now: dt.datetime | None = None) -> None:
    record, _created = PatronMail.objects.get_or_create(user=user)
    if record.asked_at is None:
        record.asked_at = now or timezone.now()
        record.save(update_fields=["asked_at"])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_mail_verification(
    user: Any, address: str, library: Any, now: dt.datetime | None = None
) -> None:
    """Send a link to `address`; the address counts once the link is opened and confirmed."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    record, _created = PatronMail.objects.get_or_create(user=user)
    record.pending_address = address.strip()[:254]
    record.token_hash = _token_hash(token)
    record.sent_at = now
    record.asked_at = record.asked_at or now
    record.save()
    link = settings.SITE_URL + reverse("accounts:mail_confirm", args=[token])
    notify_email(
        library,
        [record.pending_address],
        _("Confirm your e-mail address for the library"),
        _(
            "Please confirm that this is your e-mail address, so that the library can tell you "
            "when a document you asked for is ready:\n\n%(link)s\n\n"
            "The link works for two days. If you did not ask for this, ignore this message."
        )
        % {"link": link},
        kind="accounts.mail_verify",
        dedupe_key=f"mail-verify:{record.token_hash[:32]}",
    )


def pending_mail(token: str, now: dt.datetime | None = None) -> PatronMail | None:
    now = now or timezone.now()
    if not token or len(token) > 100:
        return None
    record = PatronMail.objects.filter(token_hash=_token_hash(token)).first()
    if record is None or record.sent_at is None:
        return None
    if record.sent_at + PatronMail.LINK_LIFETIME < now:
        return None
    return record


def confirm_mail(token: str, now: dt.datetime | None = None) -> PatronMail | None:
    now = now or timezone.now()
    with transaction.atomic():
        record = pending_mail(token, now)
        if record is None:
            return None
        record = PatronMail.objects.select_for_update().get(pk=record.pk)
        if record.token_hash != _token_hash(token):
            return None
        record.address, record.from_idp, record.verified_at = record.pending_address, False, now
        record.pending_address, record.token_hash = "", ""
        record.save()
        _set_user_email(record.user, record.address)
        mail_verified.send(sender=PatronMail, user=record.user, address=record.address)
    return record
