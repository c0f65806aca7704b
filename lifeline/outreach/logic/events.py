"""Registration for event sessions: capacity, waiting list, promotion, check-in, feedback.

Every change of a session's seats runs under that session's row lock (`select_for_update`), so
two patrons asking for the last seat at once are served one after the other: one is registered,
the other goes on the waiting list and is told so. On SQLite (no row locks) writes are serialised
by the database itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Patron
from lifeline.core.notify import notify_email
from lifeline.outreach.choices import ACTIVE_REG, RegStatus
from lifeline.outreach.models import Registration, Session

CHECKIN_SALT = "lifeline.outreach.checkin"
REMIND_BEFORE = dt.timedelta(hours=24)


def may_take_part(user: Any, library_id: int) -> bool:
    """Patrons of the library only (staff of the library too, to try their own events)."""
    if not user.is_authenticated:
        return False
    return Patron.objects.filter(user=user, library_id=library_id).exists()


def register(session: Session, user: Any, *, now: dt.datetime | None = None) -> Registration:
    now = now or timezone.now()
    if not may_take_part(user, session.event.library_id):
        raise PermissionDenied
    if session.starts_at <= now:
        raise ValidationError(_("This session has already begun."))
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        existing = Registration.objects.filter(
            session=locked, user=user, status__in=ACTIVE_REG
        ).first()
        if existing is not None:
            return existing
        full = bool(locked.capacity) and locked.registered >= locked.capacity
        reg = Registration.objects.create(
            session=locked,
            user=user,
            status=RegStatus.WAITLISTED if full else RegStatus.REGISTERED,
        )
        if not full:
            Session.objects.filter(pk=locked.pk).update(registered=locked.registered + 1)
    session.refresh_from_db(fields=["registered"])
    return reg


def cancel(reg: Registration, *, now: dt.datetime | None = None) -> Registration | None:
    """Cancel a registration; a freed seat goes to the first on the waiting list, who is told.
    Returns the promoted registration, if any."""
    now = now or timezone.now()
    promoted = None
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=reg.session_id)
        row = Registration.objects.select_for_update().get(pk=reg.pk)
        if row.status == RegStatus.CANCELLED:
            return None
        was_registered = row.status == RegStatus.REGISTERED
        row.status = RegStatus.CANCELLED
        row.save(update_fields=["status"])
        seats = locked.registered - (1 if was_registered else 0)
        if was_registered and locked.starts_at > now:
            promoted = (
                Registration.objects.filter(session=locked, status=RegStatus.WAITLISTED)
                .order_by("created_at", "pk")
                .first()
            )
            if promoted is not None:
                promoted.status = RegStatus.REGISTERED
                promoted.save(update_fields=["status"])
                seats += 1
                _tell(promoted, _("A seat is yours: %(event)s"), "outreach.promoted")
        Session.objects.filter(pk=locked.pk).update(registered=seats)
    reg.status = RegStatus.CANCELLED
    return promoted


def _tell(reg: Registration, subject: str, kind: str) -> None:
    session = reg.session
    event = session.event
    if not reg.user.email:
        return
    when = timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")
    notify_email(
        event.library,
        [reg.user.email],
        subject % {"event": event.title},
        f"{event.title}\n{when}\n{session.location}",
        kind=kind,
        dedupe_key=f"{kind}:{reg.pk}",
    )


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue a reminder for every registration of sessions starting within a day (once each)."""
    now = now or timezone.now()
    sent = 0
    due = Session.objects.filter(
        reminded_at__isnull=True, starts_at__gt=now, starts_at__lte=now + REMIND_BEFORE
    ).select_related("event__library")
    for session in due:
        with transaction.atomic():
            # Claim the session with a conditional update: two workers never remind twice.
            if not Session.objects.filter(pk=session.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            regs = Registration.objects.filter(
                session=session, status=RegStatus.REGISTERED
            ).select_related("user", "session__event__library")
            for reg in regs:
                _tell(reg, _("Reminder: %(event)s"), "outreach.reminder")
                sent += 1
    return sent


def checkin_token(reg: Registration) -> str:
    return signing.dumps({"r": reg.pk, "s": reg.session_id}, salt=CHECKIN_SALT, compress=True)


def checkin_url(reg: Registration) -> str:
    return reverse("outreach:checkin", args=[checkin_token(reg)])


def read_token(token: str) -> Registration:
    """The registration a check-in token names; a forged or altered token raises ValidationError."""
    try:
        data = signing.loads(token, salt=CHECKIN_SALT)
        pk, session_id = int(data["r"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ValidationError(_("This check-in code is not valid.")) from exc
    reg = (
        Registration.objects.select_related("session__event__library", "user")
        .filter(pk=pk, session_id=session_id)
        .first()
    )
    if reg is None:
        raise ValidationError(_("This check-in code is not valid."))
    return reg


def check_in(reg: Registration, *, now: dt.datetime | None = None) -> bool:
    """Mark attendance; False when the registration is not a confirmed seat."""
    if reg.status != RegStatus.REGISTERED:
        return False
    now = now or timezone.now()
    Registration.objects.filter(pk=reg.pk, checked_in_at__isnull=True).update(checked_in_at=now)
    reg.refresh_from_db(fields=["checked_in_at"])
    return True


def give_feedback(reg: Registration, rating: int, text: str) -> None:
    if reg.checked_in_at is None:
        raise ValidationError(_("Feedback is for those who attended."))
    if not 1 <= rating <= 5:
        raise ValidationError(_("Give a rating from 1 to 5."))
    reg.rating, reg.feedback = rating, text[:5000]
    reg.save(update_fields=["rating", "feedback"])
