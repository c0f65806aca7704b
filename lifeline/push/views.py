"""Pages of push: the patron news pages and feeds (public, read-only), subscribing and the
signed links of e-mails, and the staff pages (write, publish, progress, statistics)."""

from __future__ import annotations

import base64
import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from lifeline.core import charts
from lifeline.core.access import PUBLIC, library_for
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.push.choices import Reaction, State, Topic
from lifeline.push.forms import AnnouncementForm, SubscribeForm
from lifeline.push.logic import publish, runs, stats, subscriptions
from lifeline.push.models import Announcement, PushReaction, PushRun

PUBLISH = "push.publish"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
FEED_ITEMS = 50


# --- patron site ---------------------------------------------------------------------------


@require_safe
def index(request: HttpRequest, code: str) -> HttpResponse:
    lib = library_for(request, code, PUBLIC)
    topic = request.GET.get("topic", "")
    items = Announcement.objects.visible().filter(library=lib)
    if topic in Topic.values:
        items = items.filter(topic=topic)
    return render(
        request,
        "push/index.html",
        {"library": lib, "items": items[:100], "topics": Topic.choices, "topic": topic},
    )


@require_safe
def detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lib = library_for(request, code, PUBLIC)
    # Drafts, scheduled, expired and withdrawn announcements do not exist for patrons.
    ann = get_object_or_404(Announcement.objects.visible().filter(library=lib), pk=pk)
    Announcement.objects.filter(pk=ann.pk).update(views=F("views") + 1)
    return render(request, "push/detail.html", {"library": lib, "ann": ann})


@require_safe
def feed(request: HttpRequest, code: str, topic: str = "") -> HttpResponse:
    lib = library_for(request, code, PUBLIC)
    items = Announcement.objects.visible().filter(library=lib)
    if topic:
        if topic not in Topic.values:
            raise Http404
        items = items.filter(topic=topic)
    english = (translation.get_language() or "").startswith("en")
    title = f"{lib} · " + (str(Topic(topic).label) if topic else _("Announcements"))
    atom = Atom1Feed(
        title=title,
        link=settings.SITE_URL + reverse("push:index", args=[lib.code]),
        description=title,
        language="en" if english else "zh-cn",
        feed_url=settings.SITE_URL + request.path,
    )
    for ann in items[:FEED_ITEMS]:
        atom.add_item(
            title=ann.display("title"),
            link=publish.page_url(ann),
            description=ann.display("body"),
            unique_id=f"tag:{settings.SITE_URL.split('://')[-1]},2020:push/{ann.pk}",
            pubdate=ann.published_at,
            updateddate=ann.updated_at,
            categories=[str(Topic(ann.topic).label)],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest, code: str) -> HttpResponse:
    lib = library_for(request, code, PUBLIC)
    form = SubscribeForm(request.POST or None)
    done = False
    if request.method == "POST" and form.is_valid():
        if form.is_spam:
            done = True  # the robot is told it worked; nothing is sent
        else:
            try:
                subscriptions.subscribe(
                    lib,
                    form.cleaned_data["email"],
                    form.cleaned_data["topics"],
                    language=translation.get_language() or "zh-hans",
                )
                done = True
            except subscriptions.SubscriptionError as exc:
                form.add_error("email", str(exc))
    return render(request, "push/subscribe.html", {"library": lib, "form": form, "done": done})


# --- signed links from e-mails -------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: a mail scanner that opens links confirms nothing."""
    if request.method == "POST":
        sub = subscriptions.confirm(token)
        if sub is None:
            return render(request, "push/token.html", {"bad": True}, status=400)
        return render(request, "push/token.html", {"confirmed": True, "library": sub.library})
    return render(request, "push/token.html", {"ask_confirm": True, "token": token})


@csrf_exempt  # RFC 8058: the mail program POSTs "List-Unsubscribe=One-Click" without a form
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    sub = subscriptions.subscriber_from_token(token)
    if sub is None:
        return render(request, "push/token.html", {"bad": True}, status=400)
    if request.method == "POST":
        subscriptions.unsubscribe(sub)
        return render(request, "push/token.html", {"unsubscribed": True, "library": sub.library})
    return render(request, "push/token.html", {"ask_unsubscribe": True, "token": token})


@require_safe
def opened(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    sub = subscriptions.subscriber_from_token(token)
    if sub is not None and Announcement.objects.filter(pk=pk, library_id=sub.library_id).exists():
        PushReaction.objects.create(announcement_id=pk, kind=Reaction.OPEN, subscriber_id=sub.pk)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def click(request: HttpRequest, token: str) -> HttpResponse:
    """A link in an e-mail, counted, then followed. Only links we signed: no open redirect."""
    try:
        data = signing.loads(token[:4000], salt="lifeline.push.click")
    except signing.BadSignature as exc:
        raise Http404 from exc
    url = str(data.get("u", ""))
    if not url.startswith(("http://", "https://")):
        raise Http404
    if Announcement.objects.filter(pk=data.get("a")).exists():
        PushReaction.objects.create(announcement_id=data["a"], kind=Reaction.CLICK, url=url[:1000])
    return HttpResponseRedirect(url)


# --- staff ---------------------------------------------------------------------------------


@require_safe
def staff_list(request: HttpRequest, code: str) -> HttpResponse:
    lib = library_for(request, code, "view")
    items = list(Announcement.objects.filter(library=lib).order_by("-created_at")[:200])
    figures = stats.reach(items)
    rows = [(a, figures[a.pk]) for a in items]
    return render(request, "push/staff_list.html", {"library": lib, "rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, code: str, pk: int | None = None) -> HttpResponse:
    lib = library_for(request, code, "view", write=PUBLISH)
    ann = get_object_or_404(Announcement, pk=pk, library=lib) if pk else Announcement(library=lib)
    form = AnnouncementForm(request.POST or None, instance=ann)
    if request.method == "POST" and form.is_valid():
        ann = form.save(commit=False)
        ann.library = lib
        try:
            publish.save_announcement(ann, user=request.user)
        except Exception as exc:  # a ValidationError from full_clean, shown on the form
            form.add_error(None, getattr(exc, "messages", [str(exc)])[0])
        else:
            messages.success(request, _("Saved."))
            return redirect("push:manage", lib.code, ann.pk)
    return render(request, "push/edit.html", {"library": lib, "form": form, "ann": ann})


@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lib = library_for(request, code, "view", write=PUBLISH)
    ann = get_object_or_404(Announcement, pk=pk, library=lib)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "publish":
                publish.publish(ann, user=request.user)
            elif action in {State.WITHDRAWN, State.DRAFT, State.EXPIRED}:
                publish.move(ann, action, user=request.user, note=request.POST.get("note", ""))
            else:
                raise publish.PublishError(_("Unknown action."))
        except publish.PublishError as exc:
            messages.error(request, str(exc))
        return redirect("push:manage", lib.code, ann.pk)
    run = PushRun.objects.filter(announcement=ann).first()
    return render(
        request,
        "push/manage.html",
        {
            "library": lib,
            "ann": ann,
            "changes": ann.changes.all(),
            "run": run,
            "progress": runs.progress(run) if run else None,
            "figures": stats.reach([ann])[ann.pk],
            "columns": stats.columns(),
        },
    )


@require_safe
def progress_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The progress bar alone: refreshed by htmx, or by the page's own refresh without JS."""
    lib = library_for(request, code, "view")
    ann = get_object_or_404(Announcement, pk=pk, library=lib)
    run = get_object_or_404(PushRun, announcement=ann)
    return render(
        request,
        "push/progress.html",
        {"library": lib, "ann": ann, "run": run, "progress": runs.progress(run), "alone": True},
    )


@require_safe
def wechat(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lib = library_for(request, code, "view")
    ann = get_object_or_404(Announcement, pk=pk, library=lib)
    english = request.GET.get("lang") == "en"
    markup = publish.wechat_html(ann, english=english)
    if request.GET.get("download"):
        response = HttpResponse(markup, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="announcement-{ann.pk}.html"'
        return response
    return render(request, "push/wechat.html", {"library": lib, "ann": ann, "markup": markup})


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today - dt.timedelta(days=90)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    return start, end


@require_safe
def stats_page(request: HttpRequest, code: str) -> HttpResponse:
    lib = library_for(request, code, "view")
    start, end = _period(request)
    items = stats.published_between(lib, start, end)
    figures = stats.reach(items)
    chart = charts.bar_chart(
        [a.display("title")[:24] for a in items[-20:]],
        [figures[a.pk]["email_sent"] + figures[a.pk]["robot_sent"] for a in items[-20:]],
        title=_("Messages sent per announcement"),
    )
    return render(
        request,
        "push/stats.html",
        {
            "library": lib,
            "start": start,
            "end": end,
            "rows": [(a, [figures[a.pk][k] for k, _l in stats.columns()]) for a in items],
            "columns": stats.columns(),
            "chart": chart,
        },
    )


@require_safe
def stats_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    lib = library_for(request, code, "view")
    start, end = _period(request)
    items = stats.published_between(lib, start, end)
    figures = stats.reach(items)
    header = [_("Published"), _("Topic"), pgettext("announcement", "Title")]
    header += [label for _k, label in stats.columns()]
    rows = [
        [
            timezone.localtime(a.published_at).strftime("%Y-%m-%d %H:%M") if a.published_at else "",
            str(Topic(a.topic).label),
            a.display("title"),
            *[figures[a.pk][k] for k, _l in stats.columns()],
        ]
        for a in items
    ]
    response = HttpResponse(
        xlsx_bytes({_("Push reach"): (header, rows)}),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="push-{lib.code}-{start}-{end}.xlsx"'
    return response
