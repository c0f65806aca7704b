"""Pages of the knowledge base: the patron help centre (search with the answering passage, one
article, "did this solve it?") and the staff pages that write, edit and restore articles."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from lifeline.core.access import PATRON, PUBLIC, library_for
from lifeline.core.params import parse_id
from lifeline.knowledge import services
from lifeline.knowledge.choices import SuggestionKind
from lifeline.knowledge.forms import ArticleForm, SearchForm
from lifeline.knowledge.models import Article, ArticleVersion

CHANGE = "knowledge.change"
PAGE = 50


@require_safe
def help_index(request: HttpRequest, library: str) -> HttpResponse:
    """Public: the help centre. Each reader sees what their audience allows."""
    lib = library_for(request, library, PUBLIC)
    form = SearchForm(request.GET or None)
    audiences = services.audiences_for(request.user, lib)
    results: list[dict[str, object]] = []
    query = ""
    if form.is_valid() and form.cleaned_data["q"]:
        query = form.cleaned_data["q"]
        for article, hit in services.search_articles(lib, query, audiences, 10):
            results.append(
                {
                    "article": article,
                    "url": services.article_url(article, lib.code),
                    "passage": services.best_passage(article.body, hit.terms),
                }
            )
    recent = (
        Article.objects.filter(library=lib, resource__isnull=True)
        .for_audiences(audiences)
        .live()
        .order_by("-updated_at", "-id")[:PAGE]
    )
    return render(
        request,
        "knowledge/help.html",
        {"library": lib, "form": form, "results": results, "query": query, "recent": recent},
    )


@require_safe
def article(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib = library_for(request, library, PUBLIC)
    found = services.visible_articles(request.user, lib).filter(pk=pk).first()
    if found is None:
        raise Http404
    return render(
        request,
        "knowledge/article.html",
        {"library": lib, "article": found, "asked": request.GET.get("asked") == "1"},
    )


@require_POST
def feedback(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    """Did this solve it? from the help centre: a signed-in patron or staff of the library
    (an anonymous form would need the spam defences of the fault-report form for one count)."""
    lib = library_for(request, library, PUBLIC, write=PATRON)
    found = services.visible_articles(request.user, lib).filter(pk=pk).first()
    if found is None:
        raise Http404
    solved = request.POST.get("solved") == "yes"
    kind = SuggestionKind.RESOURCE if found.resource_id else SuggestionKind.ARTICLE
    object_id = found.resource_id if found.resource_id else found.pk
    services.record_deflection(lib, kind, int(object_id or 0), solved, channel="web")
    messages.success(request, _("Thank you for telling us."))
    return redirect("knowledge:article", lib.code, found.pk)


# --- staff ----------------------------------------------------------------------------------


@require_safe
def staff_list(request: HttpRequest, library: str) -> HttpResponse:
    lib = library_for(request, library)
    qs = Article.objects.filter(library=lib).select_related("resource")
    if request.GET.get("generated") != "1":
        qs = qs.filter(resource__isnull=True)
    return render(
        request,
        "knowledge/staff_list.html",
        {"library": lib, "articles": qs[:500]},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, library: str, pk: int | None = None) -> HttpResponse:
    lib = library_for(request, library, CHANGE)
    current = get_object_or_404(Article, pk=pk, library=lib) if pk else None
    if current is not None and current.is_generated:
        messages.info(
            request, _("This article is written from the registry; change the resource instead.")
        )
        return redirect("knowledge:staff_list", lib.code)
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if current is None:
                current = services.create_article(lib, user=request.user, **data)
            else:
                current = services.update_article(current, user=request.user, **data)
            messages.success(request, _("Saved."))
            return redirect("knowledge:history", lib.code, current.pk)
    elif current is not None:
        form = ArticleForm(
            initial={
                "title": current.title,
                "body": current.body,
                "language": current.language,
                "audience": current.audience,
                "tags": current.tags,
                "expires_at": current.expires_at,
                "is_published": current.is_published,
            }
        )
    else:
        form = ArticleForm()
    return render(
        request, "knowledge/edit.html", {"library": lib, "form": form, "article": current}
    )


@require_safe
def history(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib = library_for(request, library)
    found = get_object_or_404(Article, pk=pk, library=lib)
    versions = ArticleVersion.objects.filter(article=found).select_related("created_by")
    return render(
        request,
        "knowledge/history.html",
        {"library": lib, "article": found, "versions": versions},
    )


@require_POST
def restore(request: HttpRequest, library: str, pk: int) -> HttpResponse:
    lib = library_for(request, library, CHANGE)
    found = get_object_or_404(Article, pk=pk, library=lib, resource__isnull=True)
    number = parse_id(request.POST.get("version"))
    if number is None or not ArticleVersion.objects.filter(article=found, number=number).exists():
        messages.error(request, _("No such version."))
    else:
        services.restore_version(found, number, user=request.user)
        messages.success(request, _("Version %(n)s restored as a new version.") % {"n": number})
    return redirect("knowledge:history", lib.code, found.pk)
