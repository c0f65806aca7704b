"""Models of document delivery: suppliers, requests with their history, delivered files, ISO 18626
messages.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.delivery.choices import (
    OPEN_STATUSES,
    STATUS_COLOURS,
    TRANSITIONS,
    Direction,
    DocType,
    MessageOutcome,
    SendState,
    Status,
    SupplierKind,
    UnfilledReason,
)
from lifeline.registry.models import Bilingual


class IllegalTransition(ValidationError):
    """A move the workflow does not allow (e.g. delivering a cancelled request)."""


class Supplier(Bilingual, models.Model):
    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="delivery_suppliers"
    )
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=SupplierKind.choices)
    partner = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("partner library"),
        help_text=_(
            "For a partner library of this installation: requests go to it as ISO 18626 messages."
        ),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    url = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    peer = models.ForeignKey(
        "delivery.Peer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suppliers",
        verbose_name=_("ISO 18626 peer"),
        help_text=_("A supplier reachable by ISO 18626: requests go to it as messages."),
    )
    rota = models.PositiveSmallIntegerField(
        _("place in the rota"), default=100, help_text=_("Lower is asked first.")
    )

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "name"], name="delivery_supplier_unique_name"
            )
        ]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.display("name")

    def clean(self) -> None:
        if self.kind == SupplierKind.PARTNER and self.partner_id is None:
            raise ValidationError(
                {"partner": _("A partner-library supplier needs the partner library.")}
            )
        if self.partner_id and self.partner_id == self.library_id:
            raise ValidationError({"partner": _("A library cannot supply itself.")})


class DeliveryRequest(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="delivery_requests")
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="delivery_requests",
    )
    # Contact details copied at intake; blanked by the privacy sweep, the statistics stay.
    patron_name = models.CharField(_("patron"), max_length=120, blank=True)
    patron_email = models.EmailField(_("patron e-mail"), blank=True)
    patron_phone = models.CharField(_("patron phone"), max_length=60, blank=True)
    doc_type = models.CharField(
        _("type"), max_length=20, choices=DocType.choices, default=DocType.FOREIGN_ARTICLE
    )
    title = models.CharField(_("title"), max_length=1000)
    authors = models.CharField(_("authors"), max_length=500, blank=True)
    source = models.CharField(_("journal, publisher or source"), max_length=500, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    volume = models.CharField(_("volume"), max_length=40, blank=True)
    issue = models.CharField(_("issue"), max_length=40, blank=True)
    pages = models.CharField(_("pages"), max_length=40, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True, db_index=True)
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    issn = models.CharField("ISSN", max_length=9, blank=True)
    pmid = models.CharField("PMID", max_length=12, blank=True)
    citation = models.TextField(_("citation as pasted"), blank=True)
    note = models.TextField(_("note"), blank=True)
    # Normalised identity of the item (DOI, else ISSN/ISBN + volume/issue/pages, else title):
    # duplicates.
    item_key = models.CharField(max_length=300, editable=False, db_index=True)
    channel = models.CharField(
        _("service channel"),
        max_length=100,
        blank=True,
        default="web",
        help_text=_("Where the request came in (web form, a WeChat service group, e-mail)."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    unfilled_reason = models.CharField(
        _("reason unfilled"), max_length=20, choices=UnfilledReason.choices, blank=True
    )
    deflection_url = models.URLField(_("access link"), max_length=1000, blank=True)
    deflection_title = models.CharField(_("held in"), max_length=300, blank=True)
    supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        verbose_name=_("supplier"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    # A partner library's copy of another library's request (ISO 18626 supplying side).
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="partner_copies"
    )
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    turnaround_hours = models.FloatField(_("turnaround (service hours)"), null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "external_id"],
                condition=~models.Q(external_id=""),
                name="delivery_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["library", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="delivery_unique_idempotency_key",
            ),
            # One open request per patron and item: a double click, a retry, two tabs give one
            # request.
            models.UniqueConstraint(
                fields=["patron", "item_key"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="delivery_unique_open_item",
            ),
        ]
        indexes = [
            models.Index(fields=["library", "created_at"]),
            models.Index(fields=["library", "status"]),
            models.Index(fields=["library", "turnaround_hours"]),
        ]
        verbose_name = _("delivery request")
        verbose_name_plural = _("delivery requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.title[:80]}"

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(Status(self.status), "grey")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and self.due_at is not None and (now or timezone.now()) > self.due_at

    def reference(self) -> str:
        return f"{self.library.code}-{self.pk}"

    def move(
        self,
        to: str,
        *,
        by: Any = None,
        note: str = "",
        now: dt.datetime | None = None,
        **changes: Any,
    ) -> RequestEvent:
        """The only way to change status: refuses illegal moves, writes a history row."""
        if to not in TRANSITIONS.get(self.status, frozenset()):
            raise IllegalTransition(
                _("A request that is “%(from)s” cannot become “%(to)s”.")
                % {"from": Status(self.status).label, "to": Status(to).label}
            )
        from lifeline.delivery.logic.hours import service_hours_between

        now = now or timezone.now()
        before = self.status
        self.status = to
        for field, value in changes.items():
            setattr(self, field, value)
        if to in (Status.DELIVERED, Status.UNFILLED, Status.CANCELLED):
            self.closed_at = now
            if to == Status.DELIVERED:
                self.turnaround_hours = round(service_hours_between(self.created_at, now), 2)
        from lifeline.delivery.logic import rawsql

        # Prepared statements (the ISO 18626 path moves requests hundreds of times a second);
        # the same columns as save() writes. A partly loaded row is saved the ORM's way. Inside
        # `rawsql.combined()` (a received message) both go with the next statement, and the
        # history row comes back without its id.
        if self.get_deferred_fields():
            self.save()
        else:
            rawsql.update_later(self)
        event = RequestEvent(
            request=self,
            at=now,
            actor=by if getattr(by, "is_authenticated", False) else None,
            actor_name=(
                by.get_username() if getattr(by, "is_authenticated", False) else str(by or "system")
            )[:150],
            from_status=before,
            to_status=to,
            note=note[:2000],
        )
        rawsql.insert_later(event)
        return event


class RequestEvent(models.Model):
    """One row per status change: who, when, from, to, why."""

    request = models.ForeignKey(DeliveryRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices)
    note = models.TextField(_("note"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "request__library"

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("request event")
        verbose_name_plural = _("request events")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} → {self.to_status}"


def _token() -> str:
    return secrets.token_urlsafe(32)


def delivery_path(instance: DeliveryFile, filename: str) -> str:
    # The stored name carries no patron or title: only the random token.
    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"delivery/{timezone.now():%Y/%m}/{instance.token}.{suffix}"


class DeliveryFile(models.Model):
    """A supplied file behind a private link that expires and counts downloads."""

    request = models.ForeignKey(DeliveryRequest, on_delete=models.CASCADE, related_name="files")
    token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    file = models.FileField(_("file"), upload_to=delivery_path, max_length=300, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    expires_at = models.DateTimeField(_("link expires"))
    downloads = models.PositiveIntegerField(_("downloads"), default=0)
    last_download_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(_("purged"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "request__library"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("delivered file")
        verbose_name_plural = _("delivered files")

    def __str__(self) -> str:
        return self.original_name

    def is_available(self, now: dt.datetime | None = None) -> bool:
        return (
            self.purged_at is None and bool(self.file) and (now or timezone.now()) < self.expires_at
        )


class IsoMessage(models.Model):
    """An ISO 18626 message sent or received, kept verbatim with its validation outcome."""

    # Empty for a message so broken that it names none of our libraries.
    library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    request = models.ForeignKey(
        DeliveryRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="iso_messages",
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    kind = models.CharField(pgettext_lazy("ISO ILL", "message"), max_length=60)
    status = models.CharField(_("status or action"), max_length=40, blank=True)
    xml = models.TextField()
    outcome = models.CharField(
        _("outcome"), max_length=5, choices=MessageOutcome.choices, default=MessageOutcome.OK
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    peer = models.ForeignKey(
        "delivery.Peer", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    transaction = models.ForeignKey(
        "delivery.IllTransaction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # Out: a random key sent with every try. In: the sender's key, else the body's SHA-256; a
    # second copy finds the first and gets its answer again, applied once.
    idempotency_key = models.CharField(max_length=100, blank=True)
    answer = models.TextField(blank=True)
    send_state = models.CharField(_("sending"), max_length=8, choices=SendState.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer", "direction", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="delivery_iso_message_unique_key",
            )
        ]
        indexes = [models.Index(fields=["send_state", "next_attempt_at"])]
        verbose_name = _("ISO 18626 message")
        verbose_name_plural = _("ISO 18626 messages")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.kind} {self.status}"


from lifeline.delivery.iso_models import AgencyId, IllTransaction, Peer  # noqa: E402

__all__ = [
    "AgencyId",
    "DeliveryFile",
    "DeliveryRequest",
    "IllTransaction",
    "IsoMessage",
    "Peer",
    "RequestEvent",
    "Supplier",
]
