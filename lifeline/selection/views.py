"""Pages of cloud book selection: patrons browse and mark titles (works without JS, on a phone);
librarians import catalogues and holdings, run campaigns, select within budget, export orders
and read the statistics. Recommendations and home delivery are in `views_requests.py`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lifeline.core import frames, jobs
from lifeline.core.access import PATRON, library_for
from lifeline.core.models import Library
from lifeline.core.params import parse_id
from lifeline.core.permissions import user_can
from lifeline.core.typing import AuthedRequest
from lifeline.selection import browsing, services, voting
from lifeline.selection import jobs as selection_jobs
from lifeline.selection.cards import CardText, cards, class_links
from lifeline.selection.cards import labels as card_labels
from lifeline.selection.choices import (
    CLC_CLASSES,
    CampaignStatus,
    Decision,
    MarcFlavour,
    Method,
)
from lifeline.selection.forms import (
    BrowseForm,
    BudgetForm,
    CampaignForm,
    CatalogueForm,
    HoldingsForm,
    SelectionForm,
    VoteForm,
)
from lifeline.selection.importjobs import read_upload_checks
from lifeline.selection.logic import ballot, orders, stats
from lifeline.selection.logic.marc import ImportRefused
from lifeline.selection.models import (
    Budget,
    Campaign,
    Catalogue,
    Holding,
    Selection,
    Verdict,
    Vote,
)

MANAGE = "selection.manage"
PAGE = 30


# --- patrons -----------------------------------------------------------------------------------


@login_required
def home(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    today = timezone.localdate()
    campaigns = [
        c
        for c in Campaign.objects.filter(library=lib, status=CampaignStatus.OPEN)
        if services.may_take_part(request.user, c)
    ]
    return render(
        request,
        "selection/home.html",
        {
            "library": lib,
            "campaigns": campaigns,
            "today": today,
            "staff": user_can(request.user, lib, MANAGE),
            "patron": services.patron_of(request.user, lib) is not None,
        },
    )


def _campaign(library: Library, pk: int) -> Campaign:
    campaign = Campaign.objects.filter(pk=pk, library=library).first()
    if campaign is None:
        raise Http404
    campaign.library = library  # already loaded by `library_for`: no join
    return campaign


@login_required
def browse(request: AuthedRequest, library: str, pk: int) -> HttpResponse:
    """Browse by CLC class, search (Chinese text, ISBN, author), mark with a reason.

    The patron's busiest page: three statements of its own (the campaign with its lists, the
    page's titles with their marks and the reader's own; see `browsing`), the cards and the
    class letters written in Python (`cards.py`)."""
    lib = library_for(request, library, PATRON)
    found = browsing.page_campaign(lib.pk, pk)
    if found is None:
        raise Http404
    campaign, catalogue_ids = found
    campaign.library = lib  # already loaded by `library_for`: no join
    staff = user_can(request.user, lib, MANAGE)
    if not services.may_take_part(request.user, campaign) or (
        campaign.status == CampaignStatus.DRAFT and not staff
    ):
        raise Http404
    form = BrowseForm(request.GET)
    form.is_valid()
    q = (form.cleaned_data.get("q") or "").strip()
    cls = (form.cleaned_data.get("cls") or "").upper()
    page = form.cleaned_data.get("page") or 1
    after = form.cleaned_data.get("after") or 0
    rows, has_next = browsing.browse_titles(
        campaign, query=q, cls=cls, after=after, size=PAGE,
        catalogue_ids=catalogue_ids, user_id=request.user.pk,
    )  # fmt: skip
    is_open = campaign.is_open_on(timezone.localdate())
    english = get_language() == "en"
    classes = [(letter, en if english else zh) for letter, zh, en in CLC_CLASSES]
    class_name = next((name for letter, name in classes if letter == cls), "")
    if class_name and english:
        class_name = f"{dict((c[0], c[1]) for c in CLC_CLASSES)[cls]} ({class_name})"
    query = urlencode([(k, v) for k, v in (("q", q), ("cls", cls)) if v])
    csrf = get_token(request)  # once: the cards' forms and the frame's sign-out form share it
    holes = {
        "csrf_token": csrf,
        "q": escape(q),
        "cls": escape(cls),
        # As the `urlencode` filter writes it (quote, "/" kept), then escaped.
        "all_query": escape(f"q={quote(q, safe='/')}") if q else "",
        "class_links": class_links(classes, cls, q),
        "class_name": escape(class_name),
        "query": escape(query),
        "page": str(page),
        "next_after": str(rows[-1].pk if rows else 0),
        "next_page": str(page + 1),
        # The 30 cards, written in Python (`cards.py`): the template engine cost more.
        "cards": cards(
            rows,
            CardText(
                open=is_open,
                mark_url=reverse("selection:mark", args=[lib.code, campaign.pk]),
                vote_url=reverse("selection:vote"),
                # The signed ballot of the thin vote: this user, campaign and browser.
                ballot=ballot.issue(
                    services.ballot_for(campaign, request.user),
                    request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""),
                )
                if is_open
                else "",
                back=request.get_full_path(),
                csrf_input=format_html(
                    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf
                ),
                labels=card_labels(),
            ),
        ),
    }
    # Everything else the page prints or branches on (core/frames.py: the frame is rendered
    # once per value of this and filled with the holes).
    shape = {
        "library": lib,
        "campaign": campaign,
        "open": is_open,
        "has_cls": bool(cls),
        "has_class_name": bool(class_name),
        "has_query": bool(query),
        "later_page": page > 1,
        "has_next": has_next,
    }
    key = (
        (lib.pk, lib.code, lib.display_name),
        (campaign.pk, str(campaign), campaign.starts_on, campaign.ends_on, campaign.status),
        tuple(v for k, v in shape.items() if k not in ("library", "campaign")),
    )
    html = frames.render_framed(request, "selection/browse.html", key, shape, holes)
    if html is None:  # flash messages: the page in full
        safe = {k: mark_safe(v) for k, v in holes.items()}  # noqa: S308 - escaped above
        html = render_to_string("selection/browse.html", {**shape, **safe}, request)
    return HttpResponse(html)


@login_required
@require_POST
def mark(request: AuthedRequest, library: str, pk: int) -> HttpResponse:
    campaign = _campaign(library_for(request, library, PATRON), pk)
    if not services.may_take_part(request.user, campaign):
        raise Http404
    form = VoteForm(request.POST)
    back = request.POST.get("back", "")
    target = back if back.startswith(f"/selection/{library}/c/{pk}/") else None
    if not form.is_valid():
        messages.error(request, _("Choose a reason from the list."))
    else:
        try:
            if request.POST.get("undo"):
                services.unvote(campaign, request.user, form.cleaned_data["title"])
                messages.success(request, _("Your mark is taken back."))
            else:
                services.vote(
                    campaign,
                    request.user,
                    form.cleaned_data["title"],
                    form.cleaned_data["reason"],
                    form.cleaned_data["note"],
                )
                messages.success(request, _("Marked. Thank you."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(target or f"/selection/{library}/c/{pk}/")


def _vote_request(request: HttpRequest) -> tuple[str, int | None, str, str]:
    """(ballot, title id, reason, note) from the htmx form fields (`b`, `title`, `reason`,
    `note`, as the no-JS form names them) or a JSON body {b, title, reason, note}."""
    data: Any = request.POST
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return "", None, "", ""
    return (
        str(data.get("b", "")),
        parse_id(data.get("title")),
        str(data.get("reason", "")),
        str(data.get("note", ""))[:300],
    )


# The thin vote (htmx or JSON): no CSRF cookie check and no session read; the signed ballot is
# the proof (a cross-site page cannot read it from the browse page) and it is bound to this
# browser's session cookie (`logic.ballot`). The session and user lookups, the flash message and
# the redirect to a rendered page of the form path (`mark`, kept for phones without JavaScript)
# are what a vote cost; this costs one SQL statement.
@csrf_exempt
@require_POST
def vote(request: HttpRequest) -> HttpResponse:
    token, title_id, reason, note = _vote_request(request)
    try:
        if title_id is None:
            raise ballot.BadBallot
        given = ballot.read(token, request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""))
        voting.cast(given, title_id, reason, note)
    except ballot.BadBallot:
        status, error = 403, _("This mark cannot be taken from here: reload the page.")
    except ValidationError as exc:
        status, error = 409, " ".join(exc.messages)
    else:
        status, error = 200, ""
    response: HttpResponse
    if request.headers.get("HX-Request") == "true":
        # htmx swaps only 2xx answers: a refusal is shown in place of the row's form too.
        if error:
            response = HttpResponse(format_html('<span class="error">{}</span>', error))
        else:
            response = HttpResponse(format_html('<span class="badge green">{}</span>', _("Marked")))
    elif error:
        response = JsonResponse({"marked": False, "error": error}, status=status)
    else:
        response = JsonResponse({"marked": True, "title": title_id})
    # Set here so no middleware reads the session to decide it (SecurityHeadersMiddleware).
    response["Cache-Control"] = "no-store"
    return response


# --- librarians --------------------------------------------------------------------------------


@login_required
def manage(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    return render(
        request,
        "selection/manage.html",
        {
            "library": lib,
            "campaigns": Campaign.objects.filter(library=lib).annotate(n_votes=Count("votes")),
            "catalogues": Catalogue.objects.filter(library=lib)[:50],
            "holdings": Holding.objects.filter(library=lib).count(),
            "catalogue_form": CatalogueForm(),
            "holdings_form": HoldingsForm(),
        },
    )


def _refused(request: AuthedRequest, file_name: str, problems: list[str]) -> None:
    messages.error(
        request,
        _("Nothing was imported from “%(file)s”:") % {"file": file_name[:100]}
        + " "
        + " ".join(problems[:20]),
    )


def _start_import(
    request: AuthedRequest, lib: Library, upload: Any, kind: str, **params: str
) -> HttpResponse:
    """Check the file at once, store it, import it in the background (`lifeline.core.jobs`),
    show its progress page."""
    try:
        read_upload_checks(upload)
    except ImportRefused as exc:
        _refused(request, upload.name, exc.problems)
        return redirect("selection:manage", library=lib.code)
    job = jobs.start(
        library=lib, kind=kind, user=request.user, title=upload.name[:255], upload=upload,
        params=params,
    )  # fmt: skip
    return redirect(jobs.url(job))


@login_required
@require_POST
def import_catalogue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    form = CatalogueForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("selection:manage", library=lib.code)
    return _start_import(
        request,
        lib,
        form.cleaned_data["file"],
        selection_jobs.CATALOGUE,
        name=form.cleaned_data["name"][:200],
        vendor=form.cleaned_data["vendor"][:200],
        flavour=form.cleaned_data["flavour"],
    )


@login_required
@require_POST
def import_holdings(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    form = HoldingsForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("selection:manage", library=lib.code)
    return _start_import(request, lib, form.cleaned_data["file"], selection_jobs.HOLDINGS)


@login_required
def campaign_edit(request: AuthedRequest, library: str, pk: int | None = None) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    instance = _campaign(lib, pk) if pk else Campaign(library=lib)
    form = CampaignForm(request.POST or None, instance=instance, library=lib)
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        return redirect("selection:campaign", library=lib.code, pk=campaign.pk)
    return render(request, "selection/campaign_form.html", {"library": lib, "form": form})


@login_required
def campaign(request: AuthedRequest, library: str, pk: int) -> HttpResponse:
    obj = _campaign(library_for(request, library, MANAGE), pk)
    titles = (
        services.campaign_titles(obj)
        .filter(votes__campaign=obj)
        .annotate(n=Count("votes"), patrons=Count("votes", filter=Q(votes__origin="patron")))
        .order_by("-n", "title")[:200]
    )
    reasons: dict[int, list[Vote]] = {}
    for v in Vote.objects.filter(campaign=obj, title__in=[t.pk for t in titles]).order_by(
        "-created_at"
    )[:2000]:
        reasons.setdefault(v.title_id, []).append(v)
    verdicts = dict(Verdict.objects.filter(campaign=obj).values_list("title_id", "decision"))
    rows = [(t, reasons.get(t.pk, [])[:5], verdicts.get(t.pk, "")) for t in titles]
    selections = list(obj.selections.all()[:6])
    return render(
        request,
        "selection/campaign.html",
        {
            "library": obj.library,
            "campaign": obj,
            "rows": rows,
            "budgets": obj.budgets.all(),
            "budget_form": BudgetForm(),
            "selection_form": SelectionForm(),
            "selections": selections,
            "decisions": Decision,
        },
    )


@login_required
@require_POST
def campaign_act(request: AuthedRequest, library: str, pk: int, action: str) -> HttpResponse:
    obj = _campaign(library_for(request, library, MANAGE), pk)
    try:
        if action in ("open", "close"):
            services.move_campaign(
                obj, CampaignStatus.OPEN if action == "open" else CampaignStatus.CLOSED
            )
        elif action == "budget":
            form = BudgetForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Check the budget: kind, class or college, amount."))
            Budget.objects.update_or_create(
                campaign=obj,
                kind=form.cleaned_data["kind"],
                key=form.cleaned_data["key"],
                defaults={"amount": form.cleaned_data["amount"]},
            )
        elif action == "decide":
            services.decide(
                obj,
                parse_id(request.POST.get("title")) or 0,
                request.POST.get("decision", ""),
                request.user,
            )
        elif action == "select":
            chosen = SelectionForm(request.POST)
            method = chosen.cleaned_data["method"] if chosen.is_valid() else Method.EXACT
            # In the request: 200,000 candidates are solved in about 5 s; past 10 s the best
            # selection found is kept with its gap to the bound (shown with the selection).
            sel = services.run_selection(obj, method, request.user, time_limit=10.0)
            messages.success(
                request,
                _("%(method)s: %(titles)d titles, %(spend)s spent, demand met %(demand)d.")
                % {
                    "method": sel.get_method_display(),
                    "titles": sel.titles,
                    "spend": sel.spend,
                    "demand": sel.demand,
                },
            )
        elif action == "adopt":
            sel = get_object_or_404(
                Selection, pk=parse_id(request.POST.get("selection")) or 0, campaign=obj
            )
            services.adopt(sel)
            messages.success(request, _("This selection is now the campaign's order."))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ValueError:
        messages.error(request, _("Unknown title."))
    return redirect("selection:campaign", library=library, pk=pk)


@login_required
def order_export(request: AuthedRequest, library: str, pk: int, fmt: str) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    sel = get_object_or_404(
        Selection.objects.select_related("campaign__library"), pk=pk, campaign__library=lib
    )
    name = f"order-{sel.campaign.pk}-{sel.pk}"
    if fmt == "xlsx":
        response = HttpResponse(
            orders.order_xlsx(sel),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    elif fmt in ("mrc", "cnmarc"):
        flavour = MarcFlavour.UNIMARC if fmt == "cnmarc" else MarcFlavour.MARC21
        response = HttpResponse(orders.order_marc(sel, flavour), content_type="application/marc")
        response["Content-Disposition"] = f'attachment; filename="{name}-{flavour}.mrc"'
    else:
        raise Http404
    return response


@login_required
def statistics(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, "view")
    try:
        year = int(request.GET.get("year") or 0) or None
    except ValueError:
        year = None
    if year is not None and not 1900 <= year <= 2200:
        year = None
    data = stats.summary(lib, year)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            stats.stats_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="selection-{year or "all"}.xlsx"'
        return response
    return render(
        request,
        "selection/stats.html",
        {"library": lib, "data": data, "charts": stats.charts(data), "year": year},
    )
