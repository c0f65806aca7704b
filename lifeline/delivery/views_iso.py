"""ISO 18626 pages and endpoints of document delivery: the endpoint peers post to, the link a
peer fetches our supplied document from, and the staff's ISO 18626 buttons on a request page.

Kept apart from `views.py` so the request pages and the protocol change independently.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lifeline.core import ratelimit
from lifeline.core.clientip import client_ip
from lifeline.core.models import ApiToken
from lifeline.core.permissions import is_staff_anywhere, user_can
from lifeline.delivery.choices import IsoAction, IsoStatus, Role, UnfilledReason
from lifeline.delivery.logic import ill, peers, urldelivery
from lifeline.delivery.logic.iso18626 import (
    MAX_BYTES,
    Iso18626Error,
    english,
    read,
    read_leniently,
)
from lifeline.delivery.models import DeliveryRequest, IllTransaction, Peer

CHANGE = "delivery.change"
XML = "application/xml; charset=utf-8"


def _refusals_limited(request: HttpRequest) -> HttpResponse | None:
    """A sender we cannot attribute or that fails its proof counts as anonymous form use (the
    rate-limit middleware leaves this endpoint to proven peers, who send hundreds an hour)."""
    if not getattr(settings, "RATE_LIMITS", True):
        return None
    limits = ratelimit.limits_for(None)
    if limits is None or not limits.forms_per_hour:
        return None
    address = client_ip(request) or ""
    if ratelimit.exempt(address, limits):
        return None
    wait = ratelimit.hit(
        f"form:{limits.library_id}:{address[:64]}", limits.forms_per_hour, ratelimit.FORM_WINDOW
    )
    if not wait:
        return None
    return HttpResponse(status=429, headers={"Retry-After": str(int(wait) + 1)})


@csrf_exempt
@require_POST
def endpoint(request: HttpRequest) -> HttpResponse:
    """A peer's ISO 18626 message. Outside peers prove themselves with their shared secret in
    a header (and source address, client certificate where set); a library of this installation
    may also use the Bearer token of a staff account. The answer is the confirmation."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BYTES or len(request.body) > MAX_BYTES:
        return HttpResponse(status=413)
    if b"\x00" in request.body:
        # No XML document holds a NUL byte, and PostgreSQL text cannot store one: refused before
        # anything (the refused-message log included) is written.
        return HttpResponse(status=400)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header.split(" ", 1)[1].strip()
        api_token = (
            ApiToken.objects.active()
            .filter(digest=ApiToken.hash(token))
            .select_related("user")
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            if limited := _refusals_limited(request):
                return limited
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
        if not is_staff_anywhere(api_token.user):
            return HttpResponse(status=403)
        return HttpResponse(ill.receive(request.body, sender=api_token.user), content_type=XML)
    # The message checked once: a valid one (the common case) is handed to `receive` as read;
    # one that fails is read leniently for its sender, and `receive` refuses it as before.
    try:
        claimed = checked = read(request.body)
    except Iso18626Error:
        claimed, checked = read_leniently(request.body), None
    ours, theirs = (
        (claimed.requesting, claimed.supplying)
        if claimed.kind == "supplyingAgencyMessage"
        else (claimed.supplying, claimed.requesting)
    )
    # Our library (by the agency id on record) and the peer it knows, in one prepared query;
    # an agency id not on record yet (a library's default ISIL) takes the longer way.
    peer = peers.endpoint_peer(ours, theirs[1]) if ours[1] and theirs[1] else None
    library = peer.library if peer is not None else peers.library_for(ours)
    if peer is None and library is not None and theirs[1]:
        peer = (
            Peer.objects.filter(library=library, agency_id_value=theirs[1], is_active=True)
            .exclude(secret_in="")
            .order_by("pk")
            .first()
        )
    if peer is None:
        if limited := _refusals_limited(request):
            return limited
        return HttpResponse(
            ill.refuse(
                request.body,
                english("Unknown agency “%(type)s:%(value)s”.", type=theirs[0], value=theirs[1]),
            ),
            content_type=XML,
        )
    problem = peers.check_credentials(peer, request.headers, request.META.get("REMOTE_ADDR", ""))
    if problem:
        if limited := _refusals_limited(request):
            return limited
        return HttpResponse(status=401 if "secret" in problem else 403)
    answer = ill.receive(
        request.body,
        peer=peer,
        idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
        known=(ours, library) if library is not None else None,
        checked=checked,
    )
    return HttpResponse(answer, content_type=XML)


@require_GET
def document(request: HttpRequest, token: str) -> HttpResponseBase:
    """A document we supplied to a peer, for its system to fetch (the itemId of CopyCompleted).
    The token is the secret; only files supplied by ISO 18626 are reachable this way."""
    if "\x00" in token or len(token) > 200:
        raise Http404
    f = urldelivery.shared_file(token)
    if f is None:
        raise Http404
    return FileResponse(f.file.open("rb"), content_type="application/pdf", filename="document.pdf")


def detail_context(req: DeliveryRequest, staff: bool) -> dict[str, Any]:
    """The ISO 18626 part of a request page: transactions, messages, the buttons that fit."""
    txns = list(req.transactions.select_related("peer").order_by("created_at", "id"))
    if not staff:
        links = [t.document_url for t in txns if t.document_url and t.peer.link_only]
        return {"iso_links": links}
    rows = []
    for t in txns:
        if t.role == Role.REQUESTER:
            allowed = ill.ACTIONS.get(t.iso_status, ill.FINAL_ACTIONS)
            choices = [(a.value, a.label) for a in IsoAction if a.value in allowed]
        else:
            allowed = ill.NEXT.get(t.iso_status, frozenset())
            choices = [
                (s.value, s.label)
                for s in IsoStatus
                if s.value in allowed
                and not (s.value in ill.LOAN_ONLY and t.service_type == "Copy")
                and not (s.value == IsoStatus.COPY_COMPLETED and t.service_type == "Loan")
            ]
        rows.append({"txn": t, "choices": choices})
    return {
        "iso_transactions": rows,
        "iso_reasons": UnfilledReason.choices,
        "iso_pending": req.iso_messages.filter(send_state="pending").count(),
    }


@login_required
@require_POST
def act(request: HttpRequest, pk: int, txn: int) -> HttpResponse:
    """A staff button of a transaction: an action (we request) or a status (we supply)."""
    t = get_object_or_404(
        IllTransaction.objects.select_related("request", "request__library", "peer"),
        pk=txn,
        request_id=pk,
    )
    if not user_can(request.user, t.request.library, CHANGE):
        raise Http404
    value = request.POST.get("value", "")
    note = request.POST.get("note", "")[:2000]
    try:
        with transaction.atomic():
            if t.role == Role.REQUESTER:
                ill.requester_action(t, value, note_text=note)
            else:
                when = parse_datetime(request.POST.get("retry_after", "") or "")
                if when is not None and timezone.is_naive(when):
                    when = timezone.make_aware(when)
                ill.supplier_status(
                    t,
                    value,
                    note_text=note,
                    reason=request.POST.get("reason", "")[:100],
                    retry_after=when or (timezone.now() + dt.timedelta(days=1)),
                    by=request.user,
                )
    except (ValidationError, ValueError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
        return redirect("delivery:detail", pk=pk)
    messages.success(request, _("Done."))
    return redirect("delivery:detail", pk=pk)
