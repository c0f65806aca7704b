"""The desk's domain functions: tickets in, answers out, on the channel the patron used.

Views, the API, the mail gateway and the WeCom callback call these; states move only through
`Ticket.move`, which writes one `TicketEvent` per change.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.core.notify import notify_app, notify_email
from lifeline.core.permissions import VIEW, user_can
from lifeline.reference.choices import (
    OPEN_STATES,
    CloseReason,
    MessageKind,
    TicketChannel,
    TicketState,
)
from lifeline.reference.logic import clock
from lifeline.reference.models import (
    DeskSettings,
    Message,
    Tag,
    Ticket,
)
from lifeline.reference.suggestions import Suggestion, record_deflection

MAX_BODY = 20_000
WECOM_SENDER = "lifeline.reference.channels.wecom.send"
# A web or chat patron who left an address gets the answer there too (they may have left the
# page); an e-mail patron gets it as a reply in their thread.
MAILED_CHANNELS = frozenset({TicketChannel.EMAIL, TicketChannel.WEB, TicketChannel.CHAT})
SUBJECT_MARK = re.compile(r"\[ref:([A-Za-z0-9_-]{10,40})\]")


def desk(library: Library) -> DeskSettings:
    return DeskSettings.for_library(library)


def _clean(text: str) -> str:
    # Stored as typed (shown escaped); NUL cannot go into PostgreSQL text.
    return text.replace("\x00", "").strip()[:MAX_BODY]


def _subject_from(body: str) -> str:
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return (first[:80] + "…") if len(first) > 80 else first or _("(no subject)")


@transaction.atomic
def open_ticket(
    library: Library,
    *,
    channel: str,
    body: str,
    subject: str = "",
    patron: Any = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    wecom_user: str = "",
    language: str = "zh-hans",
    mail_id: str = "",
    author: Any = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """File a question. The clocks start now and count only the desk's service hours."""
    now = now or timezone.now()
    body = _clean(body)
    if not body:
        raise ValidationError(_("Please write your question."))
    settings = desk(library)
    if patron is not None and not getattr(patron, "is_authenticated", False):
        patron = None
    ticket = Ticket.objects.create(
        library=library,
        channel=channel,
        subject=(_clean(subject) or _subject_from(body))[:300],
        patron=patron,
        contact_name=contact_name[:120],
        contact_email=contact_email[:254],
        contact_phone=contact_phone[:60],
        wecom_user=wecom_user[:64],
        language=language[:10],
        created_at=now,
        last_patron_at=now,
        last_message_at=now,
        mail_root_id=mail_id[:300],
        first_response_due=clock.add_service_minutes(
            now, settings.first_response_minutes, settings.opens, settings.closes
        ),
        resolution_due=clock.add_service_minutes(
            now, settings.resolution_hours * 60, settings.opens, settings.closes
        ),
    )
    ticket.events.create(at=now, from_state="", to_state=TicketState.NEW, actor=None)
    # A call is written down by the librarian who took it (`author`); still the patron's words.
    ticket.messages.create(
        kind=MessageKind.PATRON,
        channel=channel,
        body=body,
        created_at=now,
        mail_id=mail_id[:300],
        author=author if getattr(author, "is_authenticated", False) else None,
    )
    return ticket


@transaction.atomic
def patron_says(
    ticket: Ticket,
    body: str,
    *,
    channel: str | None = None,
    mail_id: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """The patron writes again: an answered or closed ticket is reopened, a waiting one opens."""
    now = now or timezone.now()
    body = _clean(body)
    if not body:
        raise ValidationError(_("Please write your message."))
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.state in (TicketState.ANSWERED, TicketState.CLOSED):
        ticket.move(TicketState.REOPENED, note=_("The patron wrote again."), now=now)
        ticket.closed_at, ticket.close_reason = None, ""
    elif ticket.state == TicketState.WAITING:
        ticket.move(TicketState.OPEN, note=_("The patron replied."), now=now)
    ticket.last_patron_at = ticket.last_message_at = now
    ticket.save()
    return ticket.messages.create(
        kind=MessageKind.PATRON,
        channel=channel or ticket.channel,
        body=body,
        created_at=now,
        mail_id=mail_id[:300],
    )


def _clock_minutes(ticket: Ticket, end: dt.datetime) -> float:
    s = desk(ticket.library)
    return round(clock.service_minutes(ticket.created_at, end, s.opens, s.closes), 1)


def _staff_library(ticket: Ticket, user: Any) -> Library | None:
    for lib in (ticket.handling_library, ticket.library):
        if lib is not None and user_can(user, lib, VIEW):
            return lib
    return None


@transaction.atomic
def answer(
    ticket: Ticket,
    user: Any,
    body: str,
    *,
    waiting: bool = False,
    now: dt.datetime | None = None,
) -> Message:
    """A librarian answers. The first answer stops the first-response clock; `waiting` asks the
    patron something back instead of closing the question. The answer goes out on the channel
    the patron used."""
    now = now or timezone.now()
    body = _clean(body)
    if not body:
        raise ValidationError(_("The answer is empty."))
    ticket = Ticket.objects.select_for_update().select_related("library").get(pk=ticket.pk)
    if ticket.state == TicketState.CLOSED:
        raise ValidationError(_("This ticket is closed; reopen it first."))
    if ticket.state == TicketState.ANSWERED:
        ticket.move(TicketState.REOPENED, actor=user, note=_("A further answer."), now=now)
    target = TicketState.WAITING if waiting else TicketState.ANSWERED
    if ticket.state == TicketState.NEW and waiting:
        ticket.move(TicketState.OPEN, actor=user, now=now)
    ticket.move(target, actor=user, now=now)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_response_minutes = _clock_minutes(ticket, now)
    if not waiting:
        ticket.answered_at = now
        ticket.resolution_minutes = _clock_minutes(ticket, now)
    if ticket.assignee_id is None and getattr(user, "is_authenticated", False):
        ticket.assignee = user
    ticket.last_message_at = now
    ticket.save()
    message = ticket.messages.create(
        kind=MessageKind.STAFF,
        channel=ticket.channel,
        body=body,
        author=user if getattr(user, "is_authenticated", False) else None,
        author_library=_staff_library(ticket, user),
        created_at=now,
    )
    deliver_answer(ticket, message)
    return message


def message_domain(settings: DeskSettings) -> str:
    address = settings.mail_address or ""
    return address.rsplit("@", 1)[1] if "@" in address else "lifeline.invalid"


def reply_address(ticket: Ticket, settings: DeskSettings) -> str:
    """ask+<token>@domain: a reply that lost its headers still finds its ticket."""
    if not settings.mail_address:
        return ""
    local, domain = settings.mail_address.rsplit("@", 1)
    return f"{local}+{ticket.token}@{domain}"


def new_message_id(ticket: Ticket, settings: DeskSettings) -> str:
    return f"<ref-{ticket.pk}-{secrets.token_hex(6)}@{message_domain(settings)}>"


def deliver_answer(ticket: Ticket, message: Message) -> None:
    """Send the answer where the question came from: e-mail threads under the patron's mail,
    WeCom through the application's send-message API (both through the outbox), the web and
    chat pages show it (and a patron there who left an address is told by e-mail too)."""
    settings = desk(ticket.library)
    if ticket.channel in MAILED_CHANNELS and ticket.contact_email:
        thread = list(
            ticket.messages.exclude(mail_id="")
            .order_by("created_at")
            .values_list("mail_id", flat=True)
        )
        message.mail_id = new_message_id(ticket, settings)
        message.save(update_fields=["mail_id"])
        headers = {"Message-ID": message.mail_id}
        if thread:
            headers["In-Reply-To"] = thread[-1]
            # RFC 5322: the root first, then the most recent; capped so the header stays short.
            refs = [thread[0], *thread[1:][-8:]] if len(thread) > 1 else thread
            headers["References"] = " ".join(refs)
        subject = ticket.subject
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        notify_email(
            ticket.library,
            [ticket.contact_email],
            f"{subject} [ref:{ticket.token}]",
            message.body,
            kind="reference.answer",
            dedupe_key=f"reference-answer-{message.pk}",
            headers=headers,
            from_email=settings.mail_address,
            reply_to=reply_address(ticket, settings),
        )
    elif ticket.channel == TicketChannel.WECOM and ticket.wecom_user:
        notify_app(
            ticket.library,
            WECOM_SENDER,
            subject=ticket.subject,
            body=message.body,
            recipients=[ticket.wecom_user],
            payload={"ticket": ticket.pk, "message": message.pk},
            kind="reference.answer",
            dedupe_key=f"reference-answer-{message.pk}",
        )


@transaction.atomic
def add_note(ticket: Ticket, user: Any, body: str, *, now: dt.datetime | None = None) -> Message:
    """An internal note: never shown to the patron, never sent."""
    body = _clean(body)
    if not body:
        raise ValidationError(_("The note is empty."))
    return ticket.messages.create(
        kind=MessageKind.NOTE,
        channel=ticket.channel,
        body=body,
        author=user if getattr(user, "is_authenticated", False) else None,
        author_library=_staff_library(ticket, user),
        created_at=now or timezone.now(),
    )


@transaction.atomic
def set_state(
    ticket: Ticket,
    to: str,
    user: Any,
    *,
    reason: str = CloseReason.ANSWERED,
    note: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    ticket.move(to, actor=user, note=note, now=now)
    if to == TicketState.CLOSED:
        ticket.closed_at, ticket.close_reason = now, reason
        if ticket.resolution_minutes is None:
            ticket.resolution_minutes = _clock_minutes(ticket, now)
    elif to == TicketState.REOPENED:
        ticket.closed_at, ticket.close_reason = None, ""
    ticket.save()
    return ticket


def take(ticket: Ticket, user: Any, *, now: dt.datetime | None = None) -> Ticket:
    """A librarian opens a new ticket: it is theirs and no longer new."""
    if ticket.state == TicketState.NEW:
        ticket = set_state(ticket, TicketState.OPEN, user, now=now)
    if ticket.assignee_id is None:
        ticket.assignee = user
        ticket.save(update_fields=["assignee"])
    return ticket


def staff_of(library: Library) -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(memberships__library=library, memberships__is_active=True)
        .distinct()
        .order_by("username")
    )


@transaction.atomic
def assign(ticket: Ticket, assignee: Any, actor: Any, *, now: dt.datetime | None = None) -> Ticket:
    """Give the ticket to a librarian of the library whose queue it is in."""
    queue = ticket.handling_library or ticket.library
    if assignee is not None and not user_can(assignee, queue, VIEW):
        raise ValidationError(
            _("That person is not on the staff of %(library)s.") % {"library": queue}
        )
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee"])
    add_note(
        ticket,
        actor,
        _("Assigned to %(name)s.") % {"name": assignee or _("nobody")},
        now=now,
    )
    return ticket


def partners(library: Library) -> QuerySet[Library]:
    """The consortium's partner libraries, as document delivery names them (active suppliers of
    the kind "partner library")."""
    from lifeline.delivery.choices import SupplierKind
    from lifeline.delivery.models import Supplier

    ids = Supplier.objects.filter(
        library=library, kind=SupplierKind.PARTNER, is_active=True, partner__isnull=False
    ).values_list("partner_id", flat=True)
    return Library.objects.filter(pk__in=ids).exclude(pk=library.pk).order_by("name")


@transaction.atomic
def transfer(
    ticket: Ticket, partner: Library | None, actor: Any, *, now: dt.datetime | None = None
) -> Ticket:
    """Collaborative reference: hand the question to a partner library (it appears in its queue,
    the origin keeps a view), or back to the origin with `partner=None`."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().select_related("library").get(pk=ticket.pk)
    if partner is not None and not partners(ticket.library).filter(pk=partner.pk).exists():
        raise ValidationError(_("%(library)s is not a partner library.") % {"library": partner})
    ticket.handling_library = partner
    ticket.assignee = None
    ticket.save(update_fields=["handling_library", "assignee"])
    text = (
        _("Transferred to %(library)s.") % {"library": partner}
        if partner is not None
        else _("Returned to %(library)s.") % {"library": ticket.library}
    )
    add_note(ticket, actor, text, now=now)
    return ticket


def set_tags(ticket: Ticket, names: list[str]) -> None:
    tags = []
    for name in {n.strip()[:60] for n in names if n.strip()}:
        tag, _created = Tag.objects.get_or_create(library=ticket.library, name=name)
        tags.append(tag)
    ticket.tags.set(tags)


def to_delivery(
    ticket: Ticket, actor: Any, fields: dict[str, Any], *, now: dt.datetime | None = None
) -> Any:
    """Turn the question into a document-delivery request of the ticket's own library (through
    delivery's intake function, so its routing and duplicate rules apply), then close the
    ticket with a note naming the request."""
    from lifeline.delivery import services as delivery

    now = now or timezone.now()
    with transaction.atomic():
        req, _created = delivery.submit(
            ticket.library,
            fields,
            patron=ticket.patron,
            idempotency_key=f"reference-{ticket.pk}",
            channel="reference",
            now=now,
        )
        if ticket.patron is None and (ticket.contact_email or ticket.contact_name):
            type(req).objects.filter(pk=req.pk).update(
                patron_email=ticket.contact_email, patron_name=ticket.contact_name[:120]
            )
        Ticket.objects.filter(pk=ticket.pk).update(delivery_request_id=req.pk)
        ticket.delivery_request_id = req.pk
        add_note(
            ticket, actor, _("Turned into delivery request #%(pk)s.") % {"pk": req.pk}, now=now
        )
        answer(
            ticket,
            actor,
            _(
                "We have filed a document-delivery request for this (number %(pk)s); "
                "you will hear from the delivery desk."
            )
            % {"pk": req.pk},
            now=now,
        )
        set_state(ticket, TicketState.CLOSED, actor, reason=CloseReason.DELIVERY, now=now)
    return req


@transaction.atomic
def rate(ticket: Ticket, score: int, comment: str = "") -> Ticket:
    if not 1 <= score <= 5:
        raise ValidationError(_("A rating is from 1 to 5."))
    if ticket.answered_at is None:
        raise ValidationError(_("You can rate an answer once you have one."))
    Ticket.objects.filter(pk=ticket.pk).update(rating=score, rating_comment=_clean(comment)[:1000])
    ticket.rating, ticket.rating_comment = score, _clean(comment)[:1000]
    return ticket


@transaction.atomic
def deflect(ticket: Ticket, suggestion: Suggestion, *, now: dt.datetime | None = None) -> Ticket:
    """The patron says a suggested article solved it before a librarian answered."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.state not in OPEN_STATES or ticket.first_response_at is not None:
        raise ValidationError(_("This question is already being answered."))
    ticket.deflected_by = f"{suggestion.kind}:{suggestion.id} {suggestion.title}"[:300]
    ticket.save(update_fields=["deflected_by"])
    ticket.messages.create(
        kind=MessageKind.SYSTEM,
        channel=ticket.channel,
        body=_("Solved by “%(title)s” (%(url)s).")
        % {"title": suggestion.title, "url": suggestion.url},
        created_at=now,
    )
    record_deflection(ticket.library, suggestion, solved=True, channel=ticket.channel)
    return set_state(ticket, TicketState.CLOSED, None, reason=CloseReason.DEFLECTED, now=now)


def log_call(
    library: Library,
    user: Any,
    *,
    question: str,
    answer_text: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """A telephone call, written down by the librarian who took it (answered on the phone, or
    left open for a call back)."""
    now = now or timezone.now()
    ticket = open_ticket(
        library,
        channel=TicketChannel.PHONE,
        body=question,
        contact_name=contact_name,
        contact_phone=contact_phone,
        author=user,
        now=now,
    )
    take(ticket, user, now=now)
    if answer_text.strip():
        answer(ticket, user, answer_text, now=now)
    return Ticket.objects.get(pk=ticket.pk)


def find_by_token(text: str) -> Ticket | None:
    match = SUBJECT_MARK.search(text or "")
    if match is None:
        return None
    return Ticket.objects.filter(token=match.group(1)).first()
