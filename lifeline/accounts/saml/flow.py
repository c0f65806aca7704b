"""The two halves of a CARSI sign-in: send the patron to their IdP, and judge the answer.

Every refusal raises `SamlRefused` with a message a patron can read and staff can act on;
it is logged in `SamlLoginEvent` with the technical reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from saml2 import response as saml_response
from saml2.sigver import SignatureError, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import SIG_RSA_SHA256

from lifeline.accounts.choices import SamlOutcome
from lifeline.accounts.models import (
    FederatedIdentity,
    LibrarySignIn,
    SamlIdentityProvider,
    SamlLoginEvent,
    SamlRequest,
    SamlSession,
    SeenAssertion,
)
from lifeline.accounts.saml.attributes import (
    PATRON_AFFILIATIONS,
    category_for,
    released_attributes,
    split_scoped,
)
from lifeline.accounts.saml.client import POST, REDIRECT, client_for
from lifeline.accounts.services import record_released_mail
from lifeline.core.models import Patron

log = logging.getLogger(__name__)
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"


class SamlRefused(Exception):
    """A sign-in answer we will not accept; `str()` is the message for the patron."""

    def __init__(
        self, message: str, reason: str = "", idp: SamlIdentityProvider | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.idp = idp


@dataclass
class SignIn:
    user: Any
    patron: Patron
    next_url: str
    created: bool
    idp: SamlIdentityProvider | None = None
    name_id: Any = None
    session_index: str = ""


def force_authn_for(idp: SamlIdentityProvider) -> bool:
    return LibrarySignIn.objects.filter(library_id=idp.library_id, force_authn=True).exists()


def start(idp: SamlIdentityProvider, next_url: str = "") -> str:
    """Record an AuthnRequest; return the IdP URL (signed HTTP-Redirect) to send the patron to.

    A library with public terminals sets ForceAuthn: the IdP then asks for the password even
    when the previous patron's IdP session is still open in the browser.
    """
    client = client_for(idp)
    relay = secrets.token_urlsafe(12)
    extra = {"force_authn": "true"} if force_authn_for(idp) else {}
    request_id, info = client.prepare_for_authenticate(
        entityid=idp.entity_id, relay_state=relay, binding=REDIRECT, sigalg=SIG_RSA_SHA256, **extra
    )
    SamlRequest.objects.create(request_id=request_id, idp=idp, next_url=next_url[:1000])
    return str(dict(info["headers"])["Location"])


def _issuer_of(encoded: str) -> tuple[str, str]:
    """The Issuer the answer claims and the Response's ID (unverified: the issuer only picks
    whose metadata to verify it with; both are what the log may say about an answer)."""
    try:
        xml = base64.b64decode(encoded, validate=False)
        root = ElementTree.fromstring(xml)
    except (binascii.Error, ValueError, ElementTree.ParseError, Exception) as exc:
        raise SamlRefused(
            _("The sign-in answer could not be read."), f"undecodable: {type(exc).__name__}"
        ) from exc
    issuer = root.find(f"{{{SAML_NS}}}Issuer")
    if issuer is None:
        issuer = root.find(f".//{{{SAML_NS}}}Issuer")
    text = (issuer.text or "").strip() if issuer is not None else ""
    return text[:300], str(root.get("ID", ""))[:100]


def short_reason(exc: Exception) -> str:
    """What the log keeps of a library's exception: its type and first line, never the XML
    (pysaml2's messages may quote the whole answer, with names and eppn)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if "<" in first:
        first = first.split("<", 1)[0].strip() + " [XML omitted]"
    return f"{type(exc).__name__}: {first[:200]}"


def _explain(exc: Exception) -> str:
    """A patron-readable message for what pysaml2 refused."""
    text = str(exc)
    if (
        isinstance(exc, (SignatureError, SigverError, saml_response.IncorrectlySigned))
        or "Signature" in text
    ):
        return _(
            "The identity provider's signature on the sign-in answer is missing or does not verify."
        )
    if isinstance(exc, (ResponseLifetimeExceed, ToEarly)) or "Condition not OK" in text:
        return _(
            "The sign-in answer has expired or is not valid yet. "
            "Check your device's clock and sign in again."
        )
    if "AudienceRestriction" in text:
        return _("The sign-in answer was issued for another service, not for Lifeline.")
    if isinstance(exc, saml_response.UnsolicitedResponse):
        return _("This sign-in answer does not match a sign-in started here. Please start again.")
    if isinstance(exc, saml_response.StatusError):
        return _("Your university's sign-in service refused the sign-in.")
    if isinstance(exc, saml_response.VerificationError):
        return _("The sign-in answer was sent to another address or is incomplete.")
    return _("The sign-in answer could not be verified.")


# Sign-in events are kept this long: enough to answer "why could I not sign in last month?".
EVENT_DAYS = 180


def purge(now: dt.datetime | None = None) -> int:
    """Drop expired requests and assertion IDs (no longer replayable) and old sign-in events."""
    now = now or timezone.now()
    deleted = SamlRequest.objects.filter(created_at__lt=now - SamlRequest.LIFETIME).delete()[0]
    deleted += SeenAssertion.objects.filter(expires_at__lt=now).delete()[0]
    deleted += SamlLoginEvent.objects.filter(at__lt=now - dt.timedelta(days=EVENT_DAYS)).delete()[0]
    # Single-logout records outlive no session (sessions end after SESSION_COOKIE_AGE).
    session_age = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    deleted += SamlSession.objects.filter(created_at__lt=now - session_age).delete()[0]
    return int(deleted)


def _remember_assertion(assertion: Any, now: dt.datetime) -> None:
    """Refuse an assertion ID we have seen; remember this one until it could no longer be valid."""
    assertion_id = str(assertion.id or "")
    if not assertion_id:
        raise SamlRefused(_("The sign-in answer could not be verified."), "assertion without ID")
    until = now + dt.timedelta(hours=1)
    conditions = assertion.conditions
    if conditions is not None and conditions.not_on_or_after:
        parsed = dt.datetime.fromisoformat(conditions.not_on_or_after.replace("Z", "+00:00"))
        until = max(until, parsed + dt.timedelta(seconds=settings.SAML_CLOCK_SKEW))
    try:
        with transaction.atomic():
            SeenAssertion.objects.create(assertion_id=assertion_id, expires_at=until)
    except IntegrityError as exc:
        raise SamlRefused(
            _("This sign-in answer has already been used. Please sign in again."),
            f"replayed assertion {assertion_id}",
        ) from exc


def _in_scope(value: str, idp: SamlIdentityProvider) -> bool:
    _local, scope = split_scoped(value)
    return bool(scope) and scope in idp.scope_list


def _identity(idp: SamlIdentityProvider, assertion: Any) -> tuple[str, dict[str, Any]]:
    """The persistent subject and patron fields, with every scope checked against the IdP's."""
    released = released_attributes(assertion)
    fields: dict[str, Any] = {"mail": released.first("mail")}
    eppn = released.first("eppn")
    pairwise = released.first("pairwise_id")
    for value in filter(None, [eppn, pairwise]):
        if not _in_scope(value, idp):
            raise SamlRefused(
                _("Your university's sign-in service may not vouch for “%(value)s”.")
                % {"value": value},
                f"out-of-scope value {value}",
            )
    # Affiliations from a foreign scope are dropped, as Shibboleth does, not trusted.
    affiliations = [
        split_scoped(v)[0] for v in released.values.get("affiliation", []) if _in_scope(v, idp)
    ]
    if not PATRON_AFFILIATIONS & {a.lower() for a in affiliations}:
        raise SamlRefused(
            _("Your university did not confirm that you are a current student or member of staff."),
            f"affiliations {released.values.get('affiliation', [])}",
        )
    targeted = released.first("targeted_id")
    subject = pairwise or (targeted and f"eptid:{targeted}") or (eppn and f"eppn:{eppn}")
    if not subject:
        raise SamlRefused(
            _(
                "Your university released no identifier for you "
                "(eduPersonPrincipalName or pairwise-id)."
            ),
            "no subject attribute",
        )
    fields |= {
        "category": category_for(affiliations),
        "eppn": eppn,
        "affiliation": ";".join(sorted(set(released.values.get("affiliation", [])))),
        "display_name": released.first("display_name")[:120],
    }
    return subject, fields


def _patron_for(
    idp: SamlIdentityProvider, subject: str, fields: dict[str, Any], now: dt.datetime
) -> tuple[Any, Patron, bool]:
    link = FederatedIdentity.objects.select_related("user").filter(idp=idp, subject=subject).first()
    created = link is None
    if link is None:
        digest = hashlib.sha256(f"{idp.entity_id}\n{subject}".encode()).hexdigest()[:24]
        user = get_user_model().objects.create_user(f"carsi-{digest}", password=None)
        link = FederatedIdentity.objects.create(
            idp=idp, subject=subject, user=user, last_login_at=now
        )
    else:
        FederatedIdentity.objects.filter(pk=link.pk).update(last_login_at=now)
    mail = fields.pop("mail", "")
    patron, _new = Patron.objects.update_or_create(
        user=link.user,
        defaults={"library": idp.library, **{k: v for k, v in fields.items() if v or k == "eppn"}},
    )
    if mail:
        record_released_mail(link.user, mail, now)
    return link.user, patron, created


def _log(
    outcome: str,
    idp: SamlIdentityProvider | None,
    issuer: str,
    reason: str,
    subject: str,
    addr: str | None,
) -> None:
    SamlLoginEvent.objects.create(
        library=idp.library if idp else None,
        idp_entity_id=issuer[:300],
        outcome=outcome,
        reason=reason[:500],
        subject=subject[:500],
        remote_addr=addr or None,
    )


def finish(encoded: str, remote_addr: str | None = None, now: dt.datetime | None = None) -> SignIn:
    """Judge a SAMLResponse POSTed to the ACS; return the signed-in patron or raise SamlRefused."""
    now = now or timezone.now()
    issuer = response_id = ""
    try:
        if not encoded:
            raise SamlRefused(_("The sign-in answer is missing."), "empty SAMLResponse")
        issuer, response_id = _issuer_of(encoded)
        idp = (
            SamlIdentityProvider.objects.active()
            .select_related("library", "federation")
            .filter(entity_id=issuer)
            .first()
        )
        if idp is None:
            raise SamlRefused(
                _(
                    "The sign-in answer comes from an identity provider "
                    "this library does not trust."
                ),
                f"unknown issuer {issuer!r}",
            )
        federation = idp.federation
        if federation is not None and (
            federation.valid_until is None or federation.valid_until <= now
        ):
            raise SamlRefused(
                _(
                    "The federation's metadata for your university has expired; the library "
                    "has been told. Please try again later."
                ),
                f"federation {federation.name} metadata expired",
                idp,
            )
        result = _finish_with(idp, encoded, now)
    except SamlRefused as refused:
        _log(SamlOutcome.REFUSED, refused.idp, issuer, refused.reason, "", remote_addr)
        # The response's ID, issuer and the reason: never the response (names, eppn, mail).
        log.warning(
            "CARSI sign-in refused: response %s from %s: %s",
            response_id or "?",
            issuer or "?",
            refused.reason,
        )
        raise
    _log(
        SamlOutcome.SIGNED_IN,
        idp,
        issuer,
        "",
        result.patron.eppn or result.user.get_username(),
        remote_addr,
    )
    return result


def _finish_with(idp: SamlIdentityProvider, encoded: str, now: dt.datetime) -> SignIn:
    # Only this IdP's metadata is loaded: a signature by any other key cannot verify.
    client = client_for(idp)
    fresh = SamlRequest.objects.filter(idp=idp, created_at__gte=now - SamlRequest.LIFETIME).exclude(
        is_logout=True
    )
    outstanding = {r.request_id: r.next_url for r in fresh}
    try:
        response = client.parse_authn_request_response(encoded, POST, outstanding=outstanding)
    except Exception as exc:
        raise SamlRefused(_explain(exc), short_reason(exc), idp) from exc
    if response is None or response.assertion is None:
        raise SamlRefused(_("The sign-in answer could not be verified."), "no assertion", idp)
    # pysaml2 verified whichever signature is present; one of them must be (belt and braces
    # over `want_assertions_or_response_signed`).
    if not (response.response.signature or response.assertion.signature):
        raise SamlRefused(
            _(
                "The identity provider's signature on the sign-in answer is missing or "
                "does not verify."
            ),
            "neither the response nor the assertion is signed",
            idp,
        )
    if response.issuer() != idp.entity_id:
        raise SamlRefused(_("The sign-in answer could not be verified."), "issuer changed", idp)
    try:
        with transaction.atomic():
            _remember_assertion(response.assertion, now)
            subject, fields = _identity(idp, response.assertion)
            user, patron, created = _patron_for(idp, subject, fields, now)
    except SamlRefused as refused:
        refused.idp = idp
        raise
    # The request row stays until it expires (a patron may sign in from two tabs); a replayed
    # answer is caught by the assertion-ID cache above, whatever the request.
    next_url = outstanding.get(response.in_response_to, "")
    index = ""
    for statement in response.assertion.authn_statement or []:
        index = statement.session_index or index
    return SignIn(
        user=user,
        patron=patron,
        next_url=next_url,
        created=created,
        idp=idp,
        name_id=response.name_id,
        session_index=str(index or ""),
    )
