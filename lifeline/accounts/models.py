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


class Federation(models.Model):
    """A SAML federation (CARSI) whose signed aggregate names the IdPs Lifeline may trust.

    Not a library's record: one federation serves every library, and only superusers change it.
    The signing certificate is pinned by its SHA-256 fingerprint, checked out of band with the
    federation; a certificate that does not match the pin is never used.
    """

    name = models.SlugField(_("name"), max_length=50, unique=True)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    metadata_url = models.URLField(_("metadata URL"), max_length=500, blank=True)
    mdq_url = models.URLField(
        _("MDQ base URL"),
        max_length=500,
        blank=True,
        help_text=_("Optional: a metadata query service answering /entities/{entity ID}."),
    )
    signing_cert = models.TextField(
        _("signing certificate"),
        help_text=_("The federation's metadata signing certificate (PEM)."),
    )
    cert_sha256 = models.CharField(
        _("certificate SHA-256 fingerprint"),
        max_length=100,
        help_text=_(
            "As the federation publishes it, e.g. AB:CD:…; checked against the certificate."
        ),
    )
    allow_internal = models.BooleanField(
        _("metadata on the campus network"),
        default=False,
        help_text=_("Allow a metadata URL on a private or loopback address."),
    )
    refresh_hours = models.PositiveIntegerField(_("refresh every (hours)"), default=6)
    alert_after = models.PositiveSmallIntegerField(_("alert after failed refreshes"), default=3)
    alert_emails = models.TextField(
        _("alert e-mail addresses"), blank=True, help_text=_("One per line.")
    )
    # The last good (verified, unexpired) copy: kept while refreshes fail.
    metadata_xml = models.TextField(_("metadata"), blank=True, editable=False)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True, editable=False)
    loaded_at = models.DateTimeField(_("loaded"), null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.PositiveIntegerField(_("failed refreshes"), default=0, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    audited = True

    class Meta:
        ordering = ["name"]
        verbose_name = _("federation")
        verbose_name_plural = _("federations")

    def __str__(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        from lifeline.accounts.saml.metadata import MetadataError
        from lifeline.accounts.saml.trust import normalise_fingerprint, pinned_certificate

        self.cert_sha256 = normalise_fingerprint(self.cert_sha256) or self.cert_sha256
        try:
            pinned_certificate(self.signing_cert, self.cert_sha256)
        except MetadataError as exc:
            raise ValidationError({"cert_sha256": str(exc)}) from exc

    def alert_list(self) -> list[str]:
        return [a.strip() for a in self.alert_emails.replace(",", "\n").splitlines() if a.strip()]


class FederationEntity(models.Model):
    """An IdP the federation knows: listed for discovery and for partner libraries, but trusted
    by no library until a library registers it as its own (a `SamlIdentityProvider`)."""

    federation = models.ForeignKey(Federation, on_delete=models.CASCADE, related_name="entities")
    entity_id = models.CharField(_("entity ID"), max_length=300)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    scopes = models.TextField(_("scopes"), blank=True)
    metadata_xml = models.TextField(_("metadata"))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["federation", "entity_id"], name="federation_entity_unique"
            )
        ]
        verbose_name = _("federation IdP")
        verbose_name_plural = _("federation IdPs")

    def __str__(self) -> str:
        return self.name

    @property
    def scope_list(self) -> list[str]:
        return parse_scopes(self.scopes)


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
    federation = models.ForeignKey(
        Federation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="idps",
        verbose_name=_("federation"),
        help_text=_("Its metadata is refreshed from this federation's verified aggregate."),
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


class LibrarySignIn(models.Model):
    """A library's CARSI sign-in policy."""

    library = models.OneToOneField(
        Library, on_delete=models.CASCADE, related_name="sign_in", verbose_name=_("library")
    )
    force_authn = models.BooleanField(
        _("ask for the password every time"),
        default=False,
        help_text=_(
            "For public terminals: the IdP asks for the password at every sign-in (ForceAuthn), "
            "even when the previous patron's IdP session is still open."
        ),
    )

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("CARSI sign-in policy")
        verbose_name_plural = _("CARSI sign-in policies")

    def __str__(self) -> str:
        return str(self.library)


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
    is_logout = models.BooleanField(default=False)  # a LogoutRequest, not an AuthnRequest
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


class SamlSession(models.Model):
    """Who a Lifeline session belongs to at the IdP: what single logout needs, both ways."""

    session_key = models.CharField(max_length=64, db_index=True)
    idp = models.ForeignKey(SamlIdentityProvider, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name_id = models.TextField()  # the NameID as XML, as the LogoutRequest must repeat it
    name_id_value = models.CharField(max_length=500, db_index=True)
    session_index = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.idp_id}"


class PatronMail(models.Model):
    """A patron's e-mail address: released by the IdP (`mail`), or given by the patron and
    verified by a link. The verified address is also `user.email`, which notices use."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patron_mail"
    )
    address = models.EmailField(_("e-mail"), blank=True)
    from_idp = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    pending_address = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    LINK_LIFETIME = dt.timedelta(days=2)

    class Meta:
        verbose_name = _("patron e-mail")
        verbose_name_plural = _("patron e-mails")

    def __str__(self) -> str:
        return self.address or self.pending_address
