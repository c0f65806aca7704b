"""Patron pages of the reference desk: ask a question, chat, rate the answer.

Everything works without JavaScript (plain forms, a page that reloads); htmx, where it runs,
polls the conversation every few seconds. No API that WeChat's in-app browser lacks is used.
The conversation page is found by its token within the library of the URL; a conversation of a
signed-in patron opens only for that patron (or the desk's staff).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from lifeline.core.access import PATRON, PUBLIC, library_for
from lifeline.core.clientip import client_ip
from lifeline.core.models import Library
from lifeline.core.params import parse_id
from lifeline.core.permissions import VIEW, user_can
from lifeline.core.ratelimit import exempt, hit, limits_for
from lifeline.reference import services, suggestions
from lifeline.reference.choices import MessageKind, TicketChannel, TicketState
from lifeline.reference.forms import AskForm, ChatForm, RatingForm
from lifeline.reference.models import Ticket

POLL_SECONDS = 3


def _too_many(request: HttpRequest, library: Library) -> bool:
    """Per address, as the fault-report form counts (address from core.clientip); a campus's
    NAT addresses (the library's exempt networks) are not one robot."""
    address = client_ip(request)
    if not address or request.user.is_authenticated:
        return False
    limits = limits_for(library.code)
    if limits is not None and exempt(address, limits):
        return False
    limit = int(getattr(settings, "REFERENCE_MESSAGES_PER_HOUR", 30))
    return bool(hit(f"reference:{library.pk}:{address[:64]}", limit, 3600))


def _ticket(request: HttpRequest, library: Library, token: str) -> Ticket:
    ticket = (
        Ticket.objects.filter(library=library, token=token[:40]).select_related("library").first()
    )
    if ticket is None:
        raise Http404
    if (
        ticket.patron_id is not None
        and ticket.patron_id != request.user.pk
        and not user_can(request.user, library, VIEW)
    ):
        raise Http404
    return ticket


def ask(request: HttpRequest, code: str) -> HttpResponse:
    library = library_for(request, code, PUBLIC)
    mine = []
    if request.user.is_authenticated:
        mine = list(Ticket.objects.filter(library=library, patron=request.user)[:20])
    if request.method != "POST":
        initial = {}
        if request.user.is_authenticated:
            initial = {"name": request.user.get_full_name(), "email": request.user.email}
        return render(
            request,
            "reference/ask.html",
            {"library": library, "form": AskForm(initial=initial), "mine": mine},
        )
    form = AskForm(request.POST)
    if form.is_spam:
        return render(request, "reference/thanks.html", {"library": library, "ticket": None})
    if _too_many(request, library):
        form.add_error(None, _("Too many messages from your network. Please try again later."))
        return render(request, "reference/ask.html", {"library": library, "form": form}, status=429)
    if not form.is_valid():
        return render(request, "reference/ask.html", {"library": library, "form": form}, status=400)
    d = form.cleaned_data
    chat = request.POST.get("mode") == "chat"
    ticket = services.open_ticket(
        library,
        channel=TicketChannel.CHAT if chat else TicketChannel.WEB,
        body=d["question"],
        patron=request.user,
        contact_name=d["name"],
        contact_email=d["email"],
        language=getattr(request, "LANGUAGE_CODE", "zh-hans"),
    )
    if chat:
        return redirect("reference:thread", code=library.code, token=ticket.token)
    return render(request, "reference/thanks.html", {"library": library, "ticket": ticket})


def _thread_context(
    request: HttpRequest, library: Library, ticket: Ticket, *, offer_answers: bool = True
) -> dict[str, object]:
    shown = list(
        ticket.messages.filter(kind__in=[MessageKind.PATRON, MessageKind.STAFF, MessageKind.SYSTEM])
    )
    offer = []
    # Suggestions are searched for the page, not for each poll: 500 open chats polling every
    # 3 s must cost a query each, not a full-text search each.
    if offer_answers and ticket.first_response_at is None and ticket.state != TicketState.CLOSED:
        first = ticket.messages.filter(kind=MessageKind.PATRON).first()
        offer = suggestions.suggest(library, first.body if first else ticket.subject)
    return {
        "library": library,
        "ticket": ticket,
        "shown": shown,
        # Every message counts for "after", notes too: a poll is answered 204 only when
        # nothing at all was added since.
        "last_id": ticket.messages.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "offer": offer,
        "form": ChatForm(),
        "rating": RatingForm() if ticket.answered_at and ticket.rating is None else None,
        "poll": POLL_SECONDS,
    }


def thread(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """The conversation: read it, write again (a plain POST, then back here)."""
    library = library_for(request, code, PUBLIC)
    ticket = _ticket(request, library, token)
    if request.method == "POST":
        form = ChatForm(request.POST)
        if form.is_spam:
            return redirect("reference:thread", code=library.code, token=ticket.token)
        if _too_many(request, library):
            ctx = _thread_context(request, library, ticket)
            ctx["form"] = form
            form.add_error(None, _("Too many messages from your network. Please try again later."))
            return render(request, "reference/thread.html", ctx, status=429)
        if form.is_valid():
            services.patron_says(ticket, form.cleaned_data["body"])
            return redirect("reference:thread", code=library.code, token=ticket.token)
        ctx = _thread_context(request, library, ticket)
        ctx["form"] = form
        return render(request, "reference/thread.html", ctx, status=400)
    return render(request, "reference/thread.html", _thread_context(request, library, ticket))


@require_safe
def thread_messages(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """The messages alone, for htmx's polling (and anyone who reloads just them)."""
    library = library_for(request, code, PUBLIC)
    ticket = _ticket(request, library, token)
    # Nothing new since the last message the page shows: 204, and htmx leaves the page as it
    # is. Most polls end here, after one indexed query, with nothing rendered.
    after = parse_id(request.GET.get("after"))
    if after is not None and not ticket.messages.filter(pk__gt=after).exists():
        return HttpResponse(status=204)
    return render(
        request,
        "reference/_messages.html",
        _thread_context(request, library, ticket, offer_answers=False),
    )


@require_POST
def solved(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """ "Did this solve it?" — yes: the question closes as deflected, and is counted."""
    library = library_for(request, code, PUBLIC)
    ticket = _ticket(request, library, token)
    pk = parse_id(request.POST.get("id"))
    first = ticket.messages.filter(kind=MessageKind.PATRON).first()
    picked = (
        suggestions.find(
            library, first.body if first else ticket.subject, request.POST.get("kind", ""), pk
        )
        if pk
        else None
    )
    if picked is None:
        raise Http404
    try:
        services.deflect(ticket, picked)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Glad it helped. Your question is closed."))
    return redirect("reference:thread", code=library.code, token=ticket.token)


@require_POST
def rate(request: HttpRequest, code: str, token: str) -> HttpResponse:
    library = library_for(request, code, PUBLIC)
    ticket = _ticket(request, library, token)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rate(ticket, form.cleaned_data["score"], form.cleaned_data["comment"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you for your rating."))
    return redirect("reference:thread", code=library.code, token=ticket.token)


@require_safe
def mine(request: HttpRequest, code: str) -> HttpResponse:
    library = library_for(request, code, PATRON)
    tickets = Ticket.objects.filter(library=library, patron_id=request.user.pk)[:100]
    return render(request, "reference/mine.html", {"library": library, "tickets": tickets})
