"""What citation reports and novelty searches share: fees, SLA notices, and notices to patrons,
all through the outbox (`lifeline.core.notify`), never a bare send.

Fees: staff set an amount where the library charges (status "due", the patron is told), then
record the receipt ("paid") or waive it; a report is issued only once its fee is settled.
SLA: a request past its due time and still open is announced once to the library's research
staff (`sla_noticed_at` keeps it to one notice, even with several schedulers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lifeline.core.models import Library, Membership
from lifeline.core.notify import notify_email
from lifeline.core.permissions import role_allows
from lifeline.research.choices import FeeStatus, Status
from lifeline.research.models import (
    Charged,
    NoveltyRequest,
    ServiceRequest,
    VerificationRequest,
)

MAX_FEE = Decimal("100000")
OPEN = (Status.SUBMITTED, Status.PREPARED, Status.RETURNED)


def _kind(req: Charged) -> str:
    return "novelty" if isinstance(req, NoveltyRequest) else "citation"


def detail_url(req: Charged) -> str:
    name = "research:novelty" if isinstance(req, NoveltyRequest) else "research:detail"
    return settings.SITE_URL + reverse(name, args=[req.pk])


def patron_email(req: Charged) -> str:
    user = getattr(req, "patron", None)
    return (getattr(user, "email", "") or "") if user else ""


def staff_emails(library: Library) -> list[str]:
    """Addresses of the library's active staff whose role may work on research requests."""
    rows = Membership.objects.filter(library=library, is_active=True).select_related("user")
    return sorted(
        {
            m.user.email
            for m in rows
            if m.user.email and m.user.is_active and role_allows(m.role, "research.change")
        }
    )


def _tell_patron(req: Charged, what: str, subject: str, body: str) -> None:
    email = patron_email(req)
    if email:
        notify_email(
            req.library,  # type: ignore[attr-defined]
            [email],
            subject,
            body,
            kind=f"research.{what}",
            dedupe_key=f"research-{_kind(req)}-{req.pk}-{what}-{req.fee_status}",
        )


def parse_fee(value: str) -> Decimal:
    try:
        fee = Decimal((value or "").strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationError(_("The fee must be a number, e.g. 150.00.")) from exc
    if not fee.is_finite() or fee < 0 or fee > MAX_FEE:
        raise ValidationError(
            _("The fee must be between 0 and %(max)s.") % {"max": f"{MAX_FEE:,.0f}"}
        )
    return fee.quantize(Decimal("0.01"))


@transaction.atomic
def set_fee(req: Charged, amount: str) -> None:
    """Staff set what the service costs; 0 means no fee. Not once the report is issued."""
    if req.status in (Status.ISSUED, Status.CANCELLED):  # type: ignore[attr-defined]
        raise ValidationError(_("The fee of a closed request cannot change."))
    if req.fee_status == FeeStatus.PAID:
        raise ValidationError(_("The fee has been paid; it cannot change."))
    req.fee = parse_fee(amount)
    req.fee_status = FeeStatus.DUE if req.fee > 0 else FeeStatus.NONE
    req.save(update_fields=["fee", "fee_status"])
    if req.fee_status == FeeStatus.DUE:
        with translation.override(settings.LANGUAGE_CODE):
            _tell_patron(
                req,
                "fee",
                _("Fee for your request %(ref)s") % {"ref": req},
                _(
                    "The fee for your request %(ref)s is %(fee)s yuan. Please pay it as the "
                    "library tells you; the report is issued once it is paid.\n%(url)s"
                )
                % {"ref": req, "fee": req.fee, "url": detail_url(req)},
            )


@transaction.atomic
def settle_fee(req: Charged, how: str, receipt: str = "", now: dt.datetime | None = None) -> None:
    """Record the payment (with its receipt number) or waive the fee."""
    if req.fee_status != FeeStatus.DUE:
        raise ValidationError(_("No fee is due on this request."))
    if how == FeeStatus.PAID:
        receipt = (receipt or "").strip()
        if not receipt:
            raise ValidationError(_("Please give the receipt number of the payment."))
        req.fee_receipt = receipt[:60]
        req.fee_paid_at = now or timezone.now()
        req.fee_status = FeeStatus.PAID
    elif how == FeeStatus.WAIVED:
        req.fee_status = FeeStatus.WAIVED
    else:
        raise ValidationError(_("Unknown fee action."))
    req.save(update_fields=["fee_receipt", "fee_paid_at", "fee_status"])


def check_fee_settled(req: Charged) -> None:
    if not req.fee_settled:
        raise ValidationError(_("The fee is not paid yet: the report cannot be issued."))


def tell_issued(req: Charged) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        _tell_patron(
            req,
            "issued",
            _("Your report %(ref)s is ready") % {"ref": req},
            _("Your report %(ref)s has been issued. Download it here:\n%(url)s")
            % {"ref": req, "url": detail_url(req)},
        )


def notify_overdue(now: dt.datetime | None = None) -> int:
    """One notice per open request past its due time, to the library's research staff."""
    now = now or timezone.now()
    sent = 0
    for model in (VerificationRequest, NoveltyRequest):
        late = model.objects.filter(
            status__in=OPEN, due_at__lt=now, sla_noticed_at__isnull=True
        ).select_related("library")
        for req in late[:500]:
            with transaction.atomic():
                claimed = model.objects.filter(pk=req.pk, sla_noticed_at__isnull=True).update(
                    sla_noticed_at=now
                )
                if not claimed:
                    continue  # another scheduler took it
                to = staff_emails(req.library)
                if to:
                    with translation.override(settings.LANGUAGE_CODE):
                        notify_email(
                            req.library,
                            to,
                            _("Overdue: research request %(ref)s") % {"ref": req},
                            _(
                                "Request %(ref)s (%(name)s) was due at %(due)s and is still "
                                "open (%(status)s).\n%(url)s"
                            )
                            % {
                                "ref": req,
                                "name": req.patron_name,
                                "due": timezone.localtime(req.due_at).strftime("%Y-%m-%d %H:%M"),
                                "status": Status(req.status).label,
                                "url": detail_url(req),
                            },
                            kind="research.overdue",
                            dedupe_key=f"research-{_kind(req)}-{req.pk}-overdue",
                        )
                sent += 1
    return sent


def fee_action(req: Charged, action: str, data: Any) -> None:
    """The page's fee buttons: set, paid, waived."""
    if action == "fee":
        set_fee(req, str(data.get("fee", "")))
    elif action == "paid":
        settle_fee(req, FeeStatus.PAID, str(data.get("receipt", "")))
    elif action == "waive":
        settle_fee(req, FeeStatus.WAIVED)
    else:
        raise ValidationError(_("Unknown fee action."))


@contextmanager
def _files_undone_on_rollback() -> Iterator[list[tuple[Any, str]]]:
    """One transaction; the files written in it (storage, name) are deleted if it does not commit.
    The issued PDF is written before the row that names it commits: a refusal, an error or a
    failed commit after that must not leave a file nobody names (the stray PDF of issue 13)."""
    written: list[tuple[Any, str]] = []
    try:
        with transaction.atomic():
            yield written
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise


def issue_report(
    model: type[ServiceRequest],
    pk: int,
    reviewer: Any,
    fill: Callable[[Any], bytes],
    now: dt.datetime,
) -> tuple[Any, bytes]:
    """What issuing a citation report and a novelty report share: the request locked, refused
    unless it is still waiting for review (two reviewers pressing "issue" at once: the second
    finds it issued), `fill(req)` sets the serial and signed content and returns the PDF, the
    file written and undone on rollback, the workflow row, the patron told."""
    with _files_undone_on_rollback() as written:
        req = model.objects.select_for_update().select_related("library").get(pk=pk)
        if req.status != Status.PREPARED:
            raise ValidationError(_("Only a request sent for review can be issued."))
        check_fee_settled(req)
        req.issued_at = now
        pdf = fill(req)
        req.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        req.pdf.save(f"{req.serial}.pdf", ContentFile(pdf), save=False)  # type: ignore[attr-defined]
        written.append((req.pdf.storage, req.pdf.name))  # type: ignore[attr-defined]
        req.save()
        req.move(Status.ISSUED, reviewer, now=now)
        tell_issued(req)
    return req, pdf
