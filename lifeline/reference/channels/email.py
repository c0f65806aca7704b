"""E-mail in: one message from the inbound gateway becomes a ticket or a reply to one.

`handle_message(raw, rcpt_tos)` is the gateway's single step (the SMTP server in
`management/commands/mail_gateway.py` calls it for each message it accepted; tests call it
directly). It decides, in order:

1. too large → refused (the SMTP server already refuses beyond `data_size_limit` while reading,
   discarding what it read, so a 50 MB message is never held in memory);
2. an auto-reply, a bounce, a list mail or one of our own answers coming back → dropped, never
   answered and never a ticket (a vacation reply to our answer must not start a reply storm);
3. the desk it was sent to (the envelope recipient, `ask+<token>@` allowed) → else refused;
4. the ticket it answers: In-Reply-To/References against the Message-IDs we stored, then the
   token in the address, then `[ref:<token>]` in the subject; else a new ticket;
5. attachments: their kind is sniffed (`core.uploads.check_upload`); one whose content is not
   what its name says, or of a kind we do not keep, is left out with a note for staff.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from lifeline.core.models import Patron
from lifeline.core.uploads import check_upload
from lifeline.reference import services
from lifeline.reference.choices import MessageKind, TicketChannel
from lifeline.reference.models import Attachment, DeskSettings, Message, Ticket

log = logging.getLogger(__name__)

ATTACHMENT_KINDS = ("pdf", "png", "jpg", "gif", "webp", "docx", "xlsx", "txt", "csv")
MSGID = re.compile(r"<[^<>\s]{1,250}>")
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}


def max_mail_bytes() -> int:
    return int(getattr(settings, "REFERENCE_MAIL_MAX_BYTES", 25 * 2**20))


def max_attachment_bytes() -> int:
    return int(getattr(settings, "REFERENCE_ATTACHMENT_MAX_BYTES", 10 * 2**20))


@dataclass
class Outcome:
    action: str  # "ticket", "reply", "ignored", "refused"
    reason: str = ""
    ticket: Ticket | None = None
    smtp_status: str = "250 OK"
    refused_attachments: list[str] = field(default_factory=list)


def _ids(value: str | None) -> list[str]:
    return MSGID.findall(str(value or ""))


def is_automatic(msg: EmailMessage, own_domains: set[str], own_addresses: set[str]) -> str:
    """Why this message must not be answered (empty when a person wrote it)."""
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return "auto-submitted"
    if str(msg.get("Precedence", "")).strip().lower() in AUTO_PRECEDENCE:
        return "precedence"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(header) is not None:
            return header.lower()
    if msg.get("List-Id") or msg.get("List-Unsubscribe"):
        return "mailing list"
    sender = email.utils.parseaddr(str(msg.get("From", "")))[1].lower()
    if not sender or sender.startswith(("mailer-daemon@", "postmaster@")):
        return "bounce"
    for mid in _ids(msg.get("Message-ID")):
        if mid.startswith("<ref-") and mid.rstrip(">").rsplit("@", 1)[-1] in own_domains:
            return "our own message"
    local, _at, domain = sender.partition("@")
    if f"{local.partition('+')[0]}@{domain}" in own_addresses:
        return "from the desk"
    return ""


def _desk_for(rcpt_tos: list[str]) -> tuple[DeskSettings | None, str]:
    """The desk addressed, and the ticket token when the address carries one."""
    for rcpt in rcpt_tos:
        address = email.utils.parseaddr(rcpt)[1].lower()
        if "@" not in address:
            continue
        local, domain = address.rsplit("@", 1)
        base, _sep, token = local.partition("+")
        desk = DeskSettings.objects.filter(mail_address__iexact=f"{base}@{domain}").first()
        if desk is not None:
            # Tokens are case-sensitive but mail systems may lower the local part: read the
            # original spelling back from the recipient.
            original = email.utils.parseaddr(rcpt)[1]
            token = original.split("@")[0].partition("+")[2] if token else ""
            return desk, token
    return None, ""


def known_recipient(address: str) -> bool:
    return _desk_for([address])[0] is not None


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = str(content)
    if part.get_content_type() == "text/html":
        text = strip_tags(text)
    return text


def _thread_ticket(msg: EmailMessage, desk: DeskSettings, token: str) -> Ticket | None:
    ids = _ids(msg.get("In-Reply-To")) + _ids(msg.get("References"))
    if ids:
        hit = (
            Message.objects.filter(ticket__library_id=desk.library_id, mail_id__in=ids[-50:])
            .select_related("ticket")
            .order_by("-created_at")
            .first()
        )
        if hit is not None:
            return hit.ticket
        root = Ticket.objects.filter(library_id=desk.library_id, mail_root_id__in=ids[-50:]).first()
        if root is not None:
            return root
    if token:
        found = Ticket.objects.filter(library_id=desk.library_id, token=token).first()
        if found is not None:
            return found
    by_subject = services.find_by_token(str(msg.get("Subject", "")))
    if by_subject is not None and by_subject.library_id == desk.library_id:
        return by_subject
    return None


def _patron_for(address: str, desk: DeskSettings) -> Any:
    if not address:
        return None
    user = get_user_model().objects.filter(email__iexact=address).first()
    if user is None or not Patron.objects.filter(user=user, library_id=desk.library_id).exists():
        return None
    return user


def _attachments(msg: EmailMessage) -> list[tuple[str, bytes]]:
    out = []
    for part in msg.iter_attachments():
        name = str(part.get_filename() or "attachment")[:150]
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append((name, payload))
    return out[:20]


def _store_attachments(message: Message, files: list[tuple[str, bytes]]) -> list[str]:
    refused: list[str] = []
    for name, data in files:
        upload = ContentFile(data, name=name.replace("/", "_").replace("\\", "_"))
        try:
            checked = check_upload(upload, ATTACHMENT_KINDS, max_bytes=max_attachment_bytes())
        except ValidationError as exc:
            refused.append(f"{name}: {' '.join(exc.messages)}")
            continue
        upload.seek(0)
        att = Attachment(message=message, name=name, kind=checked.kind, size=len(data))
        att.file.save(upload.name or "attachment", upload, save=False)
        att.save()
    if refused:
        message.ticket.messages.create(
            kind=MessageKind.NOTE,
            channel=TicketChannel.EMAIL,
            body=_("Attachments left out: %(list)s") % {"list": "; ".join(refused)},
        )
    return refused


def handle_message(raw: bytes, rcpt_tos: list[str], *, now: dt.datetime | None = None) -> Outcome:
    """One inbound message (the gateway's single step)."""
    if len(raw) > max_mail_bytes():
        return Outcome("refused", "too large", smtp_status="552 Message too large")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    desk, token = _desk_for(rcpt_tos)
    if desk is None:
        return Outcome("refused", "unknown recipient", smtp_status="550 No such mailbox")
    desks = list(DeskSettings.objects.exclude(mail_address=""))
    why = is_automatic(
        msg,
        {services.message_domain(d) for d in desks},
        {d.mail_address.lower() for d in desks},
    )
    if why:
        log.info("mail gateway: dropped an automatic message (%s)", why)
        return Outcome("ignored", why)
    mail_id = next(iter(_ids(msg.get("Message-ID"))), "")
    if (
        mail_id
        and Message.objects.filter(ticket__library_id=desk.library_id, mail_id=mail_id).exists()
    ):
        return Outcome("ignored", "seen before")
    name, sender = email.utils.parseaddr(str(msg.get("From", "")))
    body = _text_of(msg)
    files = _attachments(msg)
    if not body.strip() and files:
        body = _("(attachments only)")
    if not body.strip():
        return Outcome("ignored", "empty")
    with transaction.atomic():
        ticket = _thread_ticket(msg, desk, token)
        if ticket is not None:
            message = services.patron_says(
                ticket, body, channel=TicketChannel.EMAIL, mail_id=mail_id, now=now
            )
            action = "reply"
        else:
            ticket = services.open_ticket(
                desk.library,
                channel=TicketChannel.EMAIL,
                subject=str(msg.get("Subject", "")),
                body=body,
                patron=_patron_for(sender, desk),
                contact_name=name,
                contact_email=sender,
                mail_id=mail_id,
                now=now,
            )
            message = ticket.messages.get()
            action = "ticket"
        refused = _store_attachments(message, files)
    return Outcome(action, ticket=ticket, refused_attachments=refused)
