"""Pages of reader recommendations (荐购) and home delivery (送书服务): patrons file and follow
them, librarians answer, ship and take back. Every page works without JS."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lifeline.core.access import PATRON, library_for
from lifeline.core.permissions import user_can
from lifeline.core.typing import AuthedRequest
from lifeline.selection.choices import REC_TRANSITIONS, SHIP_CLOSED, RecStatus, ShipStatus
from lifeline.selection.forms import AnswerForm, DeliveryForm, RecommendForm, ShipForm
from lifeline.selection.logic import requests as logic
from lifeline.selection.logic.picklist import pick_list_pdf
from lifeline.selection.models import Holding, HomeDelivery, Recommendation
from lifeline.selection.services import patron_of
from lifeline.selection.views import MANAGE

DELIVER = "selection.deliver"


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- recommendations ------------------------------------------------------------------------------


@login_required
def recommend(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    if patron_of(request.user, lib) is None:
        raise PermissionDenied
    form = RecommendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rec = logic.recommend(lib, request.user, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                form.add_error(None, exc.messages)
        else:
            return redirect("selection:recommendation", pk=rec.pk)
    mine = Recommendation.objects.filter(library=lib, user=request.user)[:100]
    return render(request, "selection/recommend.html", {"library": lib, "form": form, "mine": mine})


@login_required
def recommendation(request: AuthedRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(
        Recommendation.objects.select_related("library", "matched_title"), pk=pk
    )
    staff = user_can(request.user, rec.library, MANAGE)
    if rec.user_id != request.user.pk and not staff:
        raise Http404
    moves = [RecStatus(s) for s in REC_TRANSITIONS[RecStatus(rec.status)]] if staff else []
    return render(
        request,
        "selection/recommendation.html",
        {
            "library": rec.library,
            "rec": rec,
            "events": rec.events.all(),
            "staff": staff,
            "moves": moves,
            "answer_form": AnswerForm(),
        },
    )


@login_required
def recommendation_queue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    status = request.GET.get("status") or RecStatus.QUEUED
    if status not in RecStatus.values:
        status = RecStatus.QUEUED
    rows = Recommendation.objects.filter(library=lib, status=status).select_related(
        "matched_title__catalogue"
    )[:300]
    return render(
        request,
        "selection/recommendation_queue.html",
        {"library": lib, "rows": rows, "status": status, "statuses": RecStatus.choices},
    )


@login_required
@require_POST
def recommendation_act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    rec = get_object_or_404(Recommendation.objects.select_related("library"), pk=pk)
    if not user_can(request.user, rec.library, MANAGE):
        raise Http404
    if action not in RecStatus.values:
        raise Http404
    form = AnswerForm(request.POST)
    answer = form.cleaned_data["answer"] if form.is_valid() else ""
    try:
        logic.move_recommendation(rec, action, request.user, answer=answer)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("selection:recommendation", pk=rec.pk)


# --- home delivery --------------------------------------------------------------------------------


@login_required
def home_delivery(request: AuthedRequest, library: str) -> HttpResponse:
    """A patron searches the holdings, asks for a book to be sent home, follows it."""
    lib = library_for(request, library, PATRON)
    if patron_of(request.user, lib) is None:
        raise PermissionDenied
    q = (request.GET.get("q") or "").strip()[:200]
    found = (
        list(Holding.objects.filter(library=lib, title__icontains=q).order_by("title")[:20])
        if q
        else []
    )
    initial = {}
    if request.GET.get("holding", "").isdigit():
        chosen = Holding.objects.filter(library=lib, pk=int(request.GET["holding"])).first()
        if chosen:
            initial = {"holding": chosen.pk, "title": chosen.title}
    form = DeliveryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            logic.request_delivery(
                lib,
                request.user,
                holding_id=data["holding"],
                title=data["title"],
                recipient=data["recipient"],
                phone=data["phone"],
                address=data["address"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Your request is in: we will send the book soon."))
            return redirect("selection:home_delivery", library=lib.code)
    mine = HomeDelivery.objects.filter(library=lib, user=request.user)[:100]
    return render(
        request,
        "selection/home_delivery.html",
        {"library": lib, "form": form, "found": found, "q": q, "mine": mine},
    )


@login_required
def delivery_queue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, DELIVER)
    rows = (
        HomeDelivery.objects.filter(library=lib)
        .exclude(status__in=SHIP_CLOSED)
        .order_by("created_at")[:500]
    )
    if request.GET.get("format") == "pdf":
        # Only what is still to be taken from the shelves, as on the printed page.
        picking = [r for r in rows if r.status in (ShipStatus.REQUESTED, ShipStatus.PICKED)]
        response = HttpResponse(pick_list_pdf(lib, picking), content_type="application/pdf")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="picklist-{lib.code}-{stamp}.pdf"'
        return response
    template = (
        "selection/picklist.html" if request.GET.get("print") else "selection/delivery_queue.html"
    )
    return render(request, template, {"library": lib, "rows": rows, "ship_form": ShipForm()})


@login_required
@require_POST
def delivery_act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    d = get_object_or_404(HomeDelivery.objects.select_related("library"), pk=pk)
    staff = user_can(request.user, d.library, DELIVER)
    own = d.user_id == request.user.pk
    if not logic.may_move_delivery(request.user, d, action, staff=staff):
        raise Http404
    if own and not staff and action == ShipStatus.CANCELLED and d.status != ShipStatus.REQUESTED:
        messages.error(request, _("The book has left the shelf: it can no longer be cancelled."))
    else:
        form = ShipForm(request.POST)
        data = form.cleaned_data if form.is_valid() else {}
        try:
            logic.move_delivery(
                d,
                action,
                request.user,
                tracking_no=data.get("tracking_no", ""),
                courier=data.get("courier", ""),
            )
        except ValidationError as exc:
            _errors(request, exc)
    if staff and not own:
        return redirect("selection:delivery_queue", library=d.library.code)
    return redirect("selection:home_delivery", library=d.library.code)
