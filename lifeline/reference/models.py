"""Models of the reference desk: one queue of tickets from every channel.

A ticket holds the question and its clocks; every change of state is a `TicketEvent` row (old,
new, when, who), every word said a `Message` (patron, librarian, internal note). The desk's
targets and channel secrets are per library (`DeskSettings`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.fields import EncryptedTextField
from lifeline.core.models import Library
from lifeline.core.permissions import VIEW, library_ids_for
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.reference.choices import (
    KIND_COLOURS,
    STATE_COLOURS,
    TRANSITIONS,
    CloseReason,
    MessageKind,
    TicketChannel,
    TicketState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class IllegalTransition(ValidationError):
    """A move the desk's workflow does not allow (e.g. answering a closed ticket's state)."""


def _token() -> str:
    return secrets.token_urlsafe(18)


class DeskSettings(models.Model):
    """Targets, service hours and channel settings of one library's desk."""

    library = models.OneToOneField(Library, on_delete=models.CASCADE, related_name="desk")
    first_response_minutes = models.PositiveIntegerField(
        _("first answer within (minutes)"), default=30
    )
    resolution_hours = models.PositiveIntegerField(_("resolved within (hours)"), default=24)
    opens = models.TimeField(_("service opens"), default=dt.time(8, 0))
    closes = models.TimeField(_("service closes"), default=dt.time(22, 0))
    mail_address = models.EmailField(
        _("desk e-mail address"),
        blank=True,
        help_text=_("Questions sent here become tickets; answers come from it."),
    )
    wecom_corp_id = models.CharField(_("WeCom corp ID"), max_length=64, blank=True)
    wecom_agent_id = models.CharField(_("WeCom agent ID"), max_length=32, blank=True)
    wecom_token = EncryptedTextField(_("WeCom callback token"), blank=True)
    wecom_aes_key = EncryptedTextField(_("WeCom EncodingAESKey"), blank=True)
    wecom_secret = EncryptedTextField(_("WeCom application secret"), blank=True)
    wecom_api_base = models.URLField(
        _("WeCom API base URL"), default="https://qyapi.weixin.qq.com", blank=True
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reference desk settings")
        verbose_name_plural = _("reference desk settings")

    def __str__(self) -> str:
        return str(self.library)

    def clean(self) -> None:
        if self.closes <= self.opens:
            raise ValidationError({"closes": _("The service must open before it closes.")})
        if self.wecom_aes_key and len(self.wecom_aes_key) != 43:
            raise ValidationError({"wecom_aes_key": _("The EncodingAESKey has 43 characters.")})

    @classmethod
    def for_library(cls, library: Library) -> DeskSettings:
        obj, _created = cls.objects.get_or_create(library=library)
        return obj


class Tag(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["library", "name"], name="reference_tag_unique")
        ]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class TicketQuerySet(RestrictedQuerySet):
    """A ticket is seen by its own library and by the partner library it was transferred to."""

    def restrict(self, user: AbstractBaseUser | AnonymousUser, action: str = VIEW) -> Self:
        if getattr(user, "is_superuser", False) and user.is_active:
            return self
        ids = library_ids_for(user, action)
        if not ids:
            return self.none()
        return self.filter(Q(library_id__in=ids) | Q(handling_library_id__in=ids))

    def in_queue_of(self, library: Library) -> Self:
        """The queue of `library`: its own tickets not handed on, and those handed to it."""
        return self.filter(
            Q(library=library, handling_library__isnull=True) | Q(handling_library=library)
        )

    def visible_to_library(self, library: Library) -> Self:
        return self.filter(Q(library=library) | Q(handling_library=library))


class Ticket(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="tickets")
    # Collaborative reference: a partner library of the consortium that answers for us.
    handling_library = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transferred_tickets",
        verbose_name=_("answered by partner library"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=TicketChannel.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=TicketState.choices, default=TicketState.NEW
    )
    subject = models.CharField(_("subject"), max_length=300)
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reference_tickets",
    )
    contact_name = models.CharField(_("name"), max_length=120, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=60, blank=True)
    wecom_user = models.CharField(_("WeCom user ID"), max_length=64, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    # The key of the patron's page and of the reply address ("ask+<token>@..."): a guess never
    # lands in someone else's conversation.
    token = models.CharField(max_length=40, unique=True, default=_token)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    created_at = models.DateTimeField(_("asked"), default=timezone.now, db_index=True)
    first_response_due = models.DateTimeField(_("first answer due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_reason = models.CharField(
        _("closed because"), max_length=12, choices=CloseReason.choices, blank=True
    )
    # Service minutes (only the desk's open hours count), kept for statistics.
    first_response_minutes = models.FloatField(null=True, blank=True)
    resolution_minutes = models.FloatField(null=True, blank=True)
    last_patron_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deflected_by = models.CharField(_("solved by"), max_length=300, blank=True)
    delivery_request_id = models.PositiveIntegerField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=1000, blank=True)
    # The first e-mail's Message-ID: the root every answer's References names.
    mail_root_id = models.CharField(max_length=300, blank=True, db_index=True)

    objects = TicketQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["library", "state"], name="reference_ticket_state")]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def colour(self) -> str:
        return STATE_COLOURS.get(self.state, "grey")

    @property
    def contact(self) -> str:
        if self.patron_id is not None:
            return self.contact_name or str(self.patron)
        return self.contact_name or self.contact_email or self.contact_phone or self.wecom_user

    def queue_library_id(self) -> int:
        return self.handling_library_id or self.library_id

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.state in (TicketState.ANSWERED, TicketState.CLOSED):
            return False
        if self.first_response_at is None and self.first_response_due is not None:
            return now > self.first_response_due
        return self.resolution_due is not None and now > self.resolution_due

    def move(self, to: str, *, actor: Any = None, note: str = "", now: dt.datetime) -> TicketEvent:
        """Change state and write its row; refuse a move the workflow does not allow."""
        if to not in TRANSITIONS.get(self.state, frozenset()):
            raise IllegalTransition(
                _("A ticket that is “%(old)s” cannot become “%(new)s”.")
                % {"old": self.get_state_display(), "new": TicketState(to).label}
            )
        event = TicketEvent.objects.create(
            ticket=self,
            at=now,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            from_state=self.state,
            to_state=to,
            note=note[:500],
        )
        self.state = to
        return event


class TicketEvent(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=10, choices=TicketState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=TicketState.choices)
    note = models.CharField(max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "ticket__library"

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=8, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=TicketChannel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # E-mail: our Message-ID for what we sent, the patron's for what came in (threading, and a
    # mail seen twice is stored once).
    mail_id = models.CharField(max_length=300, blank=True, db_index=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "ticket__library"

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def colour(self) -> str:
        return KIND_COLOURS.get(self.kind, "grey")

    @property
    def public(self) -> bool:
        return self.kind in (MessageKind.PATRON, MessageKind.STAFF)


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"reference/{instance.message.ticket.library_id}/{secrets.token_hex(8)}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10)  # sniffed, not what the sender said
    size = models.PositiveIntegerField()

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "message__ticket__library"

    def __str__(self) -> str:
        return self.name


class CannedAnswer(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("answer"))
    shortcut = models.CharField(_("shortcut"), max_length=20, blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned answer")
        verbose_name_plural = _("canned answers")

    def __str__(self) -> str:
        return self.title


class WecomNonce(models.Model):
    """Nonces of accepted WeCom callbacks, kept for the replay window: a callback seen once is
    refused the second time."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    timestamp = models.BigIntegerField()
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["library", "nonce", "timestamp"], name="reference_wecom_nonce_once"
            )
        ]

    def __str__(self) -> str:
        return self.nonce
