"""The staff console: the queue, a ticket with its actions, phone calls, canned answers,
statistics; and the WeCom callback endpoint."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lifeline.core.access import PUBLIC, library_for
from lifeline.core.models import Library
from lifeline.core.permissions import VIEW, user_can
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.reference import services, suggestions
from lifeline.reference.channels import wecom
from lifeline.reference.choices import OPEN_STATES, TicketState
from lifeline.reference.forms import (
    AnswerForm,
    AssignForm,
    CannedForm,
    CloseForm,
    DeliveryForm,
    NoteForm,
    PhoneForm,
    QueueFilterForm,
    StatsForm,
    TagsForm,
    TransferForm,
)
from lifeline.reference.logic import stats
from lifeline.reference.models import CannedAnswer, Ticket

ANSWER = "reference.answer"
log = logging.getLogger(__name__)


def _ticket(library: Library, pk: int) -> Ticket:
    ticket = (
        Ticket.objects.visible_to_library(library)
        .select_related("library", "handling_library", "assignee", "patron")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


@login_required
def queue(request: HttpRequest, code: str) -> HttpResponse:
    library = library_for(request, code, VIEW)
    staff = list(services.staff_of(library))
    form = QueueFilterForm(library, staff, request.GET or None)
    form.is_valid()
    f = form.cleaned_data if form.is_bound else {}
    transferred = request.GET.get("view") == "transferred"
    qs = (
        Ticket.objects.filter(library=library, handling_library__isnull=False)
        if transferred
        else Ticket.objects.in_queue_of(library)
    )
    state = f.get("state") or ""
    if state == "":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state != "all":
        qs = qs.filter(state=state)
    if f.get("channel"):
        qs = qs.filter(channel=f["channel"])
    who = f.get("assignee") or ""
    if who == "me":
        qs = qs.filter(assignee_id=request.user.pk)
    elif who == "none":
        qs = qs.filter(assignee__isnull=True)
    elif who.isdigit():
        qs = qs.filter(assignee_id=int(who))
    if f.get("tag"):
        qs = qs.filter(tags__name=f["tag"])
    now = timezone.now()
    if f.get("overdue"):
        qs = qs.filter(
            Q(first_response_at__isnull=True, first_response_due__lt=now)
            | Q(resolution_due__lt=now)
        ).exclude(state__in=[TicketState.ANSWERED, TicketState.CLOSED])
    if f.get("q"):
        qs = qs.filter(Q(subject__icontains=f["q"]) | Q(contact_name__icontains=f["q"]))
    rows = list(
        qs.select_related("assignee", "library", "handling_library")
        .prefetch_related("tags")
        .order_by("first_response_due", "created_at")[:200]
    )
    return render(
        request,
        "reference/queue.html",
        {
            "library": library,
            "form": form,
            "rows": rows,
            "now": now,
            "transferred": transferred,
            "can_answer": user_can(request.user, library, ANSWER),
        },
    )


@login_required
def ticket_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    library = library_for(request, code, VIEW)
    ticket = _ticket(library, pk)
    first = ticket.messages.filter(kind="patron").first()
    offer = suggestions.suggest(library, first.body if first else ticket.subject, staff=True)
    in_charge = ticket.queue_library_id() == library.pk
    can_answer = in_charge and user_can(request.user, library, ANSWER)
    answer_initial = {}
    canned_pk = request.GET.get("canned", "")
    if canned_pk.isdigit():
        canned = CannedAnswer.objects.filter(library=library, pk=int(canned_pk)).first()
        if canned is not None:
            answer_initial = {"body": canned.body, "canned": canned.pk}
    return render(
        request,
        "reference/ticket.html",
        {
            "library": library,
            "ticket": ticket,
            "thread": ticket.messages.select_related("author", "author_library").prefetch_related(
                "attachments"
            ),
            "events": ticket.events.select_related("actor"),
            "offer": offer,
            "in_charge": in_charge,
            "can_answer": can_answer,
            "can_note": user_can(request.user, library, ANSWER),
            "answer_form": AnswerForm(library, initial=answer_initial),
            "canned": CannedAnswer.objects.filter(library=library),
            "note_form": NoteForm(),
            "tags_form": TagsForm(initial={"tags": ", ".join(t.name for t in ticket.tags.all())}),
            "close_form": CloseForm(),
            "delivery_form": DeliveryForm(
                initial={"title": ticket.subject, "citation": first.body[:4000] if first else ""}
            ),
            "staff": services.staff_of(library),
            "partners": services.partners(ticket.library)
            if ticket.library_id == library.pk
            else [],
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def ticket_act(request: HttpRequest, code: str, pk: int, action: str) -> HttpResponse:
    library = library_for(request, code, VIEW, write=ANSWER)
    ticket = _ticket(library, pk)
    in_charge = ticket.queue_library_id() == library.pk
    origin = ticket.library_id == library.pk
    user = request.user
    # The origin keeps a view of a transferred ticket: notes and taking it back, no answers.
    allowed = {"note"} | ({"transfer"} if origin else set())
    if not in_charge and action not in allowed:
        raise PermissionDenied
    try:
        if action == "answer":
            form: Any = AnswerForm(library, request.POST)
            if form.is_valid():
                services.answer(
                    ticket, user, form.cleaned_data["body"], waiting=form.cleaned_data["waiting"]
                )
                messages.success(request, _("Answer sent."))
        elif action == "note":
            form = NoteForm(request.POST)
            if form.is_valid():
                services.add_note(ticket, user, form.cleaned_data["body"])
        elif action == "take":
            services.take(ticket, user)
        elif action == "assign":
            form = AssignForm(request.POST)
            if form.is_valid():
                who = form.cleaned_data["assignee"]
                person = get_user_model().objects.filter(pk=who).first() if who else None
                services.assign(ticket, person, user)
        elif action == "transfer":
            form = TransferForm(request.POST)
            if form.is_valid():
                target = form.cleaned_data["partner"]
                partner = Library.objects.filter(pk=target).first() if target else None
                services.transfer(ticket, partner, user)
                messages.success(request, _("Transferred."))
                if partner is not None:
                    return redirect("reference:queue", code=library.code)
        elif action == "tags":
            form = TagsForm(request.POST)
            if form.is_valid():
                services.set_tags(ticket, form.cleaned_data["tags"].split(","))
        elif action == "close":
            form = CloseForm(request.POST)
            if form.is_valid():
                services.set_state(
                    ticket, TicketState.CLOSED, user, reason=form.cleaned_data["reason"]
                )
        elif action == "reopen":
            services.set_state(ticket, TicketState.REOPENED, user)
        elif action == "delivery":
            form = DeliveryForm(request.POST)
            if form.is_valid():
                req = services.to_delivery(ticket, user, form.cleaned_data)
                messages.success(request, _("Delivery request #%(pk)s filed.") % {"pk": req.pk})
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reference:ticket", code=library.code, pk=ticket.pk)


@login_required
def phone(request: HttpRequest, code: str) -> HttpResponse:
    library = library_for(request, code, VIEW, write=ANSWER)
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        ticket = services.log_call(
            library,
            request.user,
            question=d["question"],
            answer_text=d["answer"],
            contact_name=d["contact_name"],
            contact_phone=d["contact_phone"],
        )
        return redirect("reference:ticket", code=library.code, pk=ticket.pk)
    return render(request, "reference/phone.html", {"library": library, "form": form})


@login_required
def canned(request: HttpRequest, code: str) -> HttpResponse:
    library = library_for(request, code, VIEW, write=ANSWER)
    form = CannedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.library = library
        obj.save()
        return redirect("reference:canned", code=library.code)
    return render(
        request,
        "reference/canned.html",
        {"library": library, "form": form, "rows": CannedAnswer.objects.filter(library=library)},
    )


@login_required
def statistics(request: HttpRequest, code: str) -> HttpResponse:
    library = library_for(request, code, VIEW)
    form = StatsForm(request.GET or None)
    form.is_valid()
    today = timezone.localdate()
    start = (form.cleaned_data.get("start") if form.is_bound else None) or today - dt.timedelta(
        days=29
    )
    end = (form.cleaned_data.get("end") if form.is_bound else None) or today
    report = stats.report(library, start, end)
    if request.GET.get("format") == "xlsx":
        data = xlsx_bytes(stats.sheets(report))
        response = HttpResponse(
            data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="reference-{library.code}-{start}-{end}.xlsx"'
        )
        return response
    return render(
        request,
        "reference/stats.html",
        {"library": library, "form": form, "report": report, "charts": stats.charts(report)},
    )


@csrf_exempt
def wecom_callback(request: HttpRequest, code: str) -> HttpResponse:
    """WeCom's servers call here (signed, encrypted); a refusal says nothing about why."""
    library = library_for(request, code, PUBLIC)
    params = {k: str(v)[:600] for k, v in request.GET.items()}
    try:
        if request.method == "GET":
            return HttpResponse(wecom.verify_url(library, params), content_type="text/plain")
        if request.method != "POST":
            return HttpResponse(status=405)
        wecom.handle_callback(library, params, request.body[: wecom.MAX_BODY + 1])
    except wecom.WecomError as exc:
        log.warning("WeCom callback refused for %s: %s", library.code, exc)
        return HttpResponse("refused", status=403, content_type="text/plain")
    # WeCom wants an empty 200 (or "success") when we do not reply passively.
    return HttpResponse("", content_type="text/plain")
