"""Accounts → delivery: a patron who filed requests before their e-mail address was verified
(a CARSI sign-in without `mail`, then the confirmation link) gets the address copied onto the
requests still in hand, and a notice of any document delivered meanwhile that is still there
to download. Only through accounts' signal, never its tables."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from lifeline.accounts.signals import mail_verified
from lifeline.delivery.choices import OPEN_STATUSES, Status
from lifeline.delivery.models import DeliveryRequest


@receiver(mail_verified)
def fill_missing_address(sender: Any, user: Any, address: str, **kwargs: Any) -> None:
    from lifeline.delivery.services import notify_delivered

    waiting = DeliveryRequest.objects.filter(
        patron=user, patron_email="", status__in=(*OPEN_STATUSES, Status.DELIVERED)
    )
    for req in waiting.select_related("library"):
        req.patron_email = address
        req.save(update_fields=["patron_email"])
        if req.status == Status.DELIVERED:
            # The notice was skipped for want of an address; the outbox dedupe key is the same
            # as at delivery, so a notice that did go out is never sent twice.
            for f in req.files.all():
                if f.is_available():
                    notify_delivered(req, f)
