"""Models of the Sign-in and security app: the CARSI identity providers each library trusts,
the federated identities they vouch for, and the state SAML needs to refuse replays."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.accounts.choices import SamlOutcome
from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet


def parse_scopes(text: str) -> list[str]:
    """Scopes one per line or comma, lower-cased (DNS names compare case-insensitively)."""
    return [s.strip().lower() for s in text.replace(",", "\n").splitlines() if s.strip()]


def validate_scopes(text: str) -> None:
    for scope in parse_scopes(text):
        if "@" in scope or " " in scope or "." not in scope:
            raise ValidationError(
                _("“%(scope)s” is not a domain scope such as nefu.edu.cn.") % {"scope": scope}
            )


class SamlIdentityProviderQuerySet(RestrictedQuerySet):
    def active(self) -> SamlIdentityProviderQuerySet:
        return self.filter(is_active=True)


class SamlIdentityProvider(models.Model):
    """A CARSI identity provider whose users are patrons of one library.

    The IdP may only vouch for users in its own `scopes`: an assertion from the IdP of
    university A claiming someone@b.edu.cn is refused, as Shibboleth's shibmd:Scope check does.
    """

    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="saml_idps", verbose_name=_("library")
    )
    entity_id = models.CharField(_("entity ID"), max_length=300, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    scopes = models.TextField(
        _("scopes"),
        validators=[validate_scopes],
        help_text=_("Domain scopes of its users, one per line, e.g. nefu.edu.cn."),
    )
    metadata_xml = models.TextField(
        _("metadata"), help_text=_("The IdP's SAML metadata (EntityDescriptor).")
    )
    is_home = models.BooleanField(
        _("home IdP"),
        default=False,
        help_text=_("Patrons of this library go straight to it, skipping the list."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SamlIdentityProviderQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["library__code", "name"]
        verbose_name = _("SAML identity provider")
        verbose_name_plural = _("SAML identity providers")

    def __str__(self) -> str:
        return self.name

    @property
    def scope_list(self) -> list[str]:
        return parse_scopes(self.scopes)

    def clean(self) -> None:
        from lifeline.accounts.saml.metadata import MetadataError, idp_sso_url

        try:
            idp_sso_url(self.metadata_xml, self.entity_id)
        except MetadataError as exc:
            raise ValidationError({"metadata_xml": str(exc)}) from exc


class FederatedIdentity(models.Model):
    """One person as an IdP knows them: pairwise-id, else eduPersonTargetedID, else ePPN."""

    idp = models.ForeignKey(
        SamlIdentityProvider, on_delete=models.CASCADE, related_name="identities"
    )
    subject = models.CharField(pgettext_lazy("identity", "subject"), max_length=500)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="federated_identities"
    )
    last_login_at = models.DateTimeField(_("last sign-in"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "idp__library"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idp", "subject"], name="federated_identity_unique")
        ]
        verbose_name = _("federated identity")
        verbose_name_plural = _("federated identities")

    def __str__(self) -> str:
        return f"{self.subject} @ {self.idp}"


class SamlRequest(models.Model):
    """An AuthnRequest we sent: the answer must name it in InResponseTo.

    Kept in the database, not the session: the IdP POSTs the answer cross-site, and a
    SameSite=Lax session cookie does not travel with that POST.
    """

    LIFETIME = dt.timedelta(minutes=15)

    request_id = models.CharField(max_length=100, unique=True)
    idp = models.ForeignKey(SamlIdentityProvider, on_delete=models.CASCADE, related_name="+")
    next_url = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.request_id


class SeenAssertion(models.Model):
    """Assertion IDs already used, kept until they expire: a replayed assertion is refused."""

    assertion_id = models.CharField(max_length=200, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.assertion_id


class SamlLoginEvent(models.Model):
    """Every CARSI sign-in, accepted or refused and why: what staff read when a patron calls."""

    library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    idp_entity_id = models.CharField(_("IdP"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=SamlOutcome.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    subject = models.CharField(pgettext_lazy("identity", "subject"), max_length=500, blank=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("CARSI sign-in")
        verbose_name_plural = _("CARSI sign-ins")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome} {self.subject}"
