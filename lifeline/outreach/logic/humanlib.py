"""The human library (真人图书馆): readers book a 30-minute conversation with a "book" (a person).

A slot is taken by one conditional UPDATE (`reader IS NULL`): of two readers asking at once,
one gets it and the other is told it is gone; a reader holds at most one slot at a time with the
same book. Both sides are told through the outbox, and reminded a day before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.notify import notify_email
from lifeline.outreach.logic.events import REMIND_BEFORE, may_take_part
from lifeline.outreach.models import Conversation, HumanBook

SLOT = dt.timedelta(minutes=30)


def add_slots(
    book: HumanBook, first: dt.datetime, count: int, *, online: bool, place: str
) -> list[Conversation]:
    """`count` back-to-back 30-minute slots from `first` (staff)."""
    return [
        Conversation.objects.get_or_create(
            book=book,
            starts_at=first + i * SLOT,
            defaults={"ends_at": first + (i + 1) * SLOT, "online": online, "place": place},
        )[0]
        for i in range(count)
    ]


def _tell_both(slot: Conversation, subject: str, kind: str) -> None:
    when = timezone.localtime(slot.starts_at).strftime("%Y-%m-%d %H:%M")
    book = slot.book
    reader = slot.reader
    body = f"{book.title} · {book.name}\n{when}\n{slot.place}"
    if reader is not None and reader.email:
        notify_email(
            book.library,
            [reader.email],
            subject % {"book": book.title},
            body,
            kind=kind,
            dedupe_key=f"{kind}:{slot.pk}:{reader.pk}:{slot.booked_at}:reader",
        )
    if book.email:
        who = getattr(getattr(reader, "patron", None), "display_name", "") or (
            reader.get_username() if reader is not None else ""
        )
        notify_email(
            book.library,
            [book.email],
            subject % {"book": book.title},
            f"{body}\n{_('Reader')}: {who}",
            kind=kind,
            dedupe_key=f"{kind}:{slot.pk}:{reader.pk if reader else 0}:{slot.booked_at}:book",
        )


def book_slot(slot: Conversation, user: Any, *, now: dt.datetime | None = None) -> Conversation:
    now = now or timezone.now()
    book = slot.book
    if not may_take_part(user, book.library_id):
        raise PermissionDenied
    if not book.is_active:
        raise ValidationError(_("This book is not taking conversations at present."))
    if slot.starts_at <= now:
        raise ValidationError(_("This slot has passed."))
    if Conversation.objects.filter(book=book, reader=user, starts_at__gt=now).exists():
        raise ValidationError(_("You already have a conversation booked with this book."))
    with transaction.atomic():
        won = Conversation.objects.filter(pk=slot.pk, reader__isnull=True).update(
            reader=user, booked_at=now, reminded_at=None
        )
        if not won:
            raise ValidationError(_("Someone has just booked this slot."))
        slot.refresh_from_db()
        transaction.on_commit(
            lambda: _tell_both(slot, _("Conversation booked: %(book)s"), "outreach.conv_booked")
        )
    return slot


def cancel_slot(slot: Conversation, user: Any, *, now: dt.datetime | None = None) -> bool:
    """The reader gives the slot back (before it starts); both sides are told."""
    now = now or timezone.now()
    if slot.reader_id != user.pk or slot.starts_at <= now:
        return False
    held = Conversation.objects.select_related("book__library", "reader").get(pk=slot.pk)
    if not Conversation.objects.filter(pk=slot.pk, reader=user).update(
        reader=None, booked_at=None, reminded_at=None
    ):
        return False
    _tell_both(held, _("Conversation cancelled: %(book)s"), "outreach.conv_cancelled")
    slot.refresh_from_db()
    return True


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind both sides of every booked conversation starting within a day (once each)."""
    now = now or timezone.now()
    sent = 0
    due = Conversation.objects.filter(
        reader__isnull=False,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + REMIND_BEFORE,
    ).select_related("book__library", "reader")
    for slot in due:
        # Claimed by a conditional update: two workers never remind twice.
        if Conversation.objects.filter(pk=slot.pk, reminded_at__isnull=True).update(
            reminded_at=now
        ):
            _tell_both(slot, _("Reminder: %(book)s"), "outreach.conv_reminder")
            sent += 1
    return sent
