"""Pages of the novelty search (科技查新): the patron's commission from home, the searcher's
record of the search and compared documents, review by a second searcher, the report PDF; and
the fee buttons shared with citation reports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lifeline.core.access import PATRON, library_for
from lifeline.core.params import parse_id
from lifeline.core.permissions import user_can
from lifeline.core.typing import AuthedRequest
from lifeline.research.choices import Status
from lifeline.research.forms import DocumentForm, NoveltyForm, StrategyForm
from lifeline.research.logic import novelty, workflow
from lifeline.research.models import NoveltyEvent, NoveltyRequest, VerificationRequest

CHANGE, REVIEW = "research.change", "research.review"


def _novelty_for(request: HttpRequest, pk: int) -> NoveltyRequest:
    """The request, for its library's staff or the patron who made it; 404 for anyone else."""
    req = get_object_or_404(NoveltyRequest.objects.select_related("library"), pk=pk)
    if not (
        user_can(request.user, req.library) or (req.patron_id and req.patron_id == request.user.pk)
    ):
        raise Http404
    return req


def _staff(request: HttpRequest, req: NoveltyRequest | VerificationRequest, action: str) -> None:
    if not user_can(request.user, req.library, action):
        raise PermissionDenied


@login_required
def novelty_new(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    form = NoveltyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patron = getattr(request.user, "patron", None)
        now = timezone.now()
        with transaction.atomic():
            req = form.save(commit=False)
            req.library = lib
            req.patron = request.user
            req.patron_name = (
                (patron.display_name if patron else "") or request.user.get_username()
            )[:120]
            req.created_at = now
            req.due_at = now + novelty.SLA
            req.save()
            NoveltyEvent.objects.create(
                request=req, status=Status.SUBMITTED, actor=request.user, at=now
            )
        messages.success(request, _("Your request has been received."))
        return redirect("research:novelty", pk=req.pk)
    return render(request, "research/novelty_new.html", {"library": lib, "form": form})


@login_required
def novelty_queue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, "view")
    reqs = NoveltyRequest.objects.filter(library=lib).select_related("searcher")[:200]
    return render(request, "research/novelty_queue.html", {"library": lib, "requests": reqs})


@login_required
def novelty_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    req = _novelty_for(request, pk)
    staff = user_can(request.user, req.library, CHANGE)
    editable = staff and req.status in (Status.SUBMITTED, Status.RETURNED)
    return render(
        request,
        "research/novelty_detail.html",
        {
            "req": req,
            "staff": staff,
            "reviewer": user_can(request.user, req.library, REVIEW),
            "editable": editable,
            "strategy": StrategyForm(instance=req) if editable else None,
            "document_form": DocumentForm() if editable else None,
            "documents": req.documents.all(),
            "missing": novelty.missing(req) if editable else [],
            # the fee buttons post to <fee_base>fee/, paid/, waive/
            "fee_base": reverse("research:novelty", args=[req.pk]),
            "events": req.events.select_related("actor"),
        },
    )


@login_required
@require_POST
def novelty_strategy(request: AuthedRequest, pk: int) -> HttpResponse:
    req = _novelty_for(request, pk)
    _staff(request, req, CHANGE)
    if req.status not in (Status.SUBMITTED, Status.RETURNED):
        messages.error(request, _("The search of a request under review or closed cannot change."))
        return redirect("research:novelty", pk=req.pk)
    form = StrategyForm(request.POST, instance=req)
    if form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("research:novelty", pk=req.pk)


@login_required
@require_POST
def novelty_document(request: AuthedRequest, pk: int) -> HttpResponse:
    req = _novelty_for(request, pk)
    _staff(request, req, CHANGE)
    remove = parse_id(request.POST.get("remove"))
    try:
        if remove is not None:
            if req.status not in (Status.SUBMITTED, Status.RETURNED):
                raise ValidationError(
                    _("The search of a request under review or closed cannot change.")
                )
            req.documents.filter(pk=remove).delete()
        else:
            form = DocumentForm(request.POST)
            if not form.is_valid():
                raise ValidationError([str(e) for errs in form.errors.values() for e in errs])
            novelty.add_document(req, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("research:novelty", pk=req.pk)


@login_required
@require_POST
def novelty_act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    req = _novelty_for(request, pk)
    try:
        if action == "prepare":
            _staff(request, req, CHANGE)
            novelty.prepare(req, request.user)
        elif action == "issue":
            _staff(request, req, REVIEW)
            novelty.issue(req, request.user)
        elif action == "return":
            _staff(request, req, REVIEW)
            req.move(Status.RETURNED, request.user, note=request.POST.get("note", "")[:2000])
        elif action == "cancel":
            if not (
                req.patron_id == request.user.pk or user_can(request.user, req.library, CHANGE)
            ):
                raise PermissionDenied
            req.move(Status.CANCELLED, request.user)
        elif action in ("fee", "paid", "waive"):
            _staff(request, req, CHANGE)
            workflow.fee_action(req, action, request.POST)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("research:novelty", pk=req.pk)


@login_required
def novelty_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    req = _novelty_for(request, pk)
    if req.status != Status.ISSUED or not req.pdf:
        raise Http404
    with req.pdf.open("rb") as fh:
        body = fh.read()
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{req.serial}.pdf"'
    return response


@login_required
@require_POST
def citation_fee(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """The fee buttons of a citation report request (same workflow as novelty searches)."""
    req = get_object_or_404(VerificationRequest.objects.select_related("library"), pk=pk)
    if not user_can(request.user, req.library):
        raise Http404
    _staff(request, req, CHANGE)
    if action not in ("fee", "paid", "waive"):
        raise Http404
    try:
        workflow.fee_action(req, action, request.POST)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("research:detail", pk=req.pk)
