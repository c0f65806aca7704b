"""Models of ISO 18626 with libraries outside the installation: our agency ids, the peers we
talk to, and one transaction per request and peer (imported by `models.py`).
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.fields import EncryptedTextField
from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.delivery.choices import HEALTH_COLOURS, Health, IsoStatus, Role, ServiceType

# The agency id types of the standard's examples; others are accepted as peers name them.
AGENCY_TYPES = ("ISIL", "OCLC", "DNUCNI", "ICOLC")
# Statuses after which the supplier sends nothing more for the transaction.
FINAL_STATUSES = frozenset(
    {
        IsoStatus.UNFILLED,
        IsoStatus.COPY_COMPLETED,
        IsoStatus.LOAN_COMPLETED,
        IsoStatus.COMPLETED_WITHOUT_RETURN,
        IsoStatus.CANCELLED,
    }
)


class AgencyId(models.Model):
    """The agency id one of our libraries carries in ISO 18626 headers (its ISIL, OCLC symbol)."""

    library = models.OneToOneField(Library, on_delete=models.CASCADE, related_name="+")
    agency_id_type = models.CharField(_("agency id type"), max_length=40, default="ISIL")
    agency_id_value = models.CharField(_("agency id"), max_length=100)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency_id_type", "agency_id_value"], name="delivery_agency_id_unique"
            )
        ]
        verbose_name = _("agency id")
        verbose_name_plural = _("agency ids")

    def __str__(self) -> str:
        return f"{self.agency_id_type}:{self.agency_id_value}"


class Peer(models.Model):
    """A library reachable by ISO 18626, as one of our libraries knows it."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="delivery_peers")
    name = models.CharField(_("name"), max_length=200)
    agency_id_type = models.CharField(
        _("agency id type"), max_length=40, default="ISIL", help_text=_("ISIL, OCLC, ...")
    )
    agency_id_value = models.CharField(_("agency id"), max_length=100)
    endpoint_url = models.URLField(
        _("ISO 18626 endpoint"),
        max_length=500,
        blank=True,
        help_text=_("Empty for a library of this installation (messages pass in-process)."),
    )
    partner = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("partner library"),
    )
    # Auth, both ways. Out: the header we send. In: what the peer must send, where from.
    secret_header = models.CharField(_("secret header"), max_length=60, default="X-ISO18626-Secret")
    secret_out = EncryptedTextField(_("secret we send"), blank=True)
    secret_in = EncryptedTextField(_("secret the peer sends"), blank=True)
    allowed_sources = models.TextField(
        _("allowed source addresses"),
        blank=True,
        help_text=_("Networks the peer sends from, one per line (e.g. 192.0.2.0/24); empty: any."),
    )
    client_cert = models.CharField(
        _("client certificate file"), max_length=300, blank=True, help_text=_("Mutual TLS, out.")
    )
    client_key = models.CharField(_("client key file"), max_length=300, blank=True)
    peer_cert_sha256 = models.CharField(
        _("peer certificate SHA-256"),
        max_length=100,
        blank=True,
        help_text=_("Mutual TLS, in: the fingerprint the TLS proxy passes for the peer."),
    )
    copy = models.BooleanField(_("supplies copies"), default=True)
    loan = models.BooleanField(_("lends"), default=False)
    link_only = models.BooleanField(
        _("pass delivery links on"),
        default=False,
        help_text=_("Give the patron the supplier's link instead of fetching the document."),
    )
    # Set by an administrator only: lets the fetcher reach a loopback or campus address.
    allow_internal = models.BooleanField(_("may be on an internal address"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    health = models.CharField(
        _("health"), max_length=8, choices=Health.choices, default=Health.UNKNOWN
    )
    health_changed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "agency_id_type", "agency_id_value"],
                name="delivery_peer_unique_agency",
            )
        ]
        verbose_name = _("ISO 18626 peer")
        verbose_name_plural = _("ISO 18626 peers")

    def __str__(self) -> str:
        return f"{self.name} ({self.agency_id_type}:{self.agency_id_value})"

    @property
    def health_colour(self) -> str:
        return HEALTH_COLOURS.get(Health(self.health), "grey")

    @property
    def in_process(self) -> bool:
        return self.partner_id is not None and not self.endpoint_url

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        out = []
        for line in self.allowed_sources.split():
            try:
                out.append(ipaddress.ip_network(line.strip(), strict=False))
            except ValueError:
                continue
        return out

    def clean(self) -> None:
        for line in self.allowed_sources.split():
            try:
                ipaddress.ip_network(line.strip(), strict=False)
            except ValueError as exc:
                raise ValidationError(
                    {"allowed_sources": _("“%(value)s” is not a network.") % {"value": line}}
                ) from exc
        if not self.endpoint_url and self.partner_id is None:
            raise ValidationError({"endpoint_url": _("Give the peer's ISO 18626 endpoint.")})
        if bool(self.client_cert) != bool(self.client_key):
            raise ValidationError({"client_key": _("Give both the certificate and its key.")})


class IllTransaction(models.Model):
    """One ISO 18626 transaction: a request of ours (or a peer's) with one supplier."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        "delivery.DeliveryRequest", on_delete=models.CASCADE, related_name="transactions"
    )
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="transactions")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    # The requester's id, whatever its shape: ours when we ask, the peer's when it asks us.
    requesting_id = models.CharField(_("requester's request id"), max_length=200)
    supplying_id = models.CharField(_("supplier's request id"), max_length=200, blank=True)
    service_type = models.CharField(
        _("service type"), max_length=10, choices=ServiceType.choices, default=ServiceType.COPY
    )
    iso_status = models.CharField(
        _("ISO 18626 status"), max_length=24, choices=IsoStatus.choices, blank=True
    )
    peer_timestamp = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    retry_after = models.DateTimeField(_("retry after"), null=True, blank=True)
    loan_due = models.DateTimeField(_("loan due"), null=True, blank=True)
    document_url = models.URLField(_("document link"), max_length=1000, blank=True)
    cancel_asked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer", "role", "requesting_id"], name="delivery_txn_unique_peer_id"
            )
        ]
        verbose_name = _("ISO 18626 transaction")
        verbose_name_plural = _("ISO 18626 transactions")

    def __str__(self) -> str:
        return f"{self.requesting_id} ({self.peer.name}: {self.iso_status or '-'})"

    @property
    def is_final(self) -> bool:
        return self.iso_status in FINAL_STATUSES
