"""Status sets of the reference desk: channels, ticket states, message kinds."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TicketChannel(models.TextChoices):
    WEB = "web", _("Web form")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom")
    PHONE = "phone", _("Telephone")


class TicketState(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket", "New")
    OPEN = "open", pgettext_lazy("ticket", "Open")
    WAITING = "waiting", _("Waiting on patron")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", pgettext_lazy("ticket", "Closed")
    REOPENED = "reopened", _("Reopened")


# States in which the desk still owes the patron something.
ACTIVE_STATES = frozenset({TicketState.NEW, TicketState.OPEN, TicketState.REOPENED})
OPEN_STATES = frozenset(
    {TicketState.NEW, TicketState.OPEN, TicketState.REOPENED, TicketState.WAITING}
)
TERMINAL_STATES = frozenset({TicketState.CLOSED})

# Allowed moves: anything not listed is refused by `Ticket.move`.
TRANSITIONS: dict[str, frozenset[str]] = {
    TicketState.NEW: frozenset(
        {TicketState.OPEN, TicketState.WAITING, TicketState.ANSWERED, TicketState.CLOSED}
    ),
    TicketState.OPEN: frozenset({TicketState.WAITING, TicketState.ANSWERED, TicketState.CLOSED}),
    TicketState.REOPENED: frozenset(
        {TicketState.OPEN, TicketState.WAITING, TicketState.ANSWERED, TicketState.CLOSED}
    ),
    TicketState.WAITING: frozenset({TicketState.OPEN, TicketState.ANSWERED, TicketState.CLOSED}),
    TicketState.ANSWERED: frozenset({TicketState.CLOSED, TicketState.REOPENED}),
    TicketState.CLOSED: frozenset({TicketState.REOPENED}),
}

STATE_COLOURS: dict[str, str] = {
    TicketState.NEW: "blue",
    TicketState.OPEN: "indigo",
    TicketState.WAITING: "yellow",
    TicketState.ANSWERED: "green",
    TicketState.CLOSED: "grey",
    TicketState.REOPENED: "orange",
}


class CloseReason(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    DEFLECTED = "deflected", _("Solved by a suggested article")
    DELIVERY = "delivery", _("Turned into a delivery request")
    DUPLICATE = "duplicate", _("Duplicate")
    SPAM = "spam", _("Spam")
    NO_REPLY = "no_reply", _("No reply from the patron")


class MessageKind(models.TextChoices):
    PATRON = "patron", _("Patron")
    STAFF = "staff", _("Librarian")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System")


KIND_COLOURS: dict[str, str] = {
    MessageKind.PATRON: "blue",
    MessageKind.STAFF: "green",
    MessageKind.NOTE: "yellow",
    MessageKind.SYSTEM: "grey",
}
