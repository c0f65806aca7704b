"""Patron pages: the A–Z list and one access guide per resource. No login needed, no JS needed."""

from __future__ import annotations

import gzip
import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from lifeline.core.access import PUBLIC, library_for, mark_public
from lifeline.core.models import Library
from lifeline.core.permissions import VIEW, user_can
from lifeline.registry import dashboard, patron
from lifeline.registry.forms import AzFilterForm
from lifeline.registry.models import Resource


def sessionless(request: HttpRequest) -> bool:
    """True for a visitor who sent no session cookie: certainly anonymous, so the page must not
    depend on (or announce a dependency on) the session. Shared caches and our own page cache
    then treat every such visitor alike."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False
    request.user = AnonymousUser()
    session = getattr(request, "session", None)
    if session is not None:
        # Middleware that asked "who is this?" found an empty session; reading nothing is not a
        # dependency, and leaving the flag set would add `Vary: Cookie` to a public page.
        session.accessed = False
    return True


def _params(request: HttpRequest, drop: tuple[str, ...] = ("lang",)) -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.GET.lists() if k not in drop for v in values]


def _listing_html(request: HttpRequest, library: Library, staff: bool) -> str:
    form = AzFilterForm(request.GET, library=library)
    filters = form.filters()
    english = (translation.get_language() or "").startswith("en")
    listing = patron.az_listing(library, filters, english)
    page = Paginator(listing.resource_ids, patron.PER_PAGE).get_page(request.GET.get("page"))
    keep = _params(request, drop=("lang", "page", "letter"))
    context = {
        "library": library,
        "form": form,
        "filters": filters,
        "errors": form.error_messages(),
        "page": page,
        "resources": patron.page_resources(list(page.object_list)),
        "total": len(listing.resource_ids),
        "letters": [(letter, letter in listing.letters_present) for letter in patron.LETTERS],
        "letter_query": urlencode(keep),
        "page_query": urlencode(_params(request, drop=("lang", "page"))),
        "staff": staff,
    }
    return render_to_string("registry/_az_listing.html", context)


@require_safe
def az(request: HttpRequest, library: str) -> HttpResponse:
    """Public (issue 21's rule): anyone may read a library's A–Z; nobody posts to it."""
    mark_public(request, library)
    registry_version = patron.version_of(library)
    if registry_version is None:
        raise Http404
    language = translation.get_language() or settings.LANGUAGE_CODE
    params = _params(request)
    if sessionless(request):
        # The hot path: one small query, one cache read. The library is loaded on a miss only.
        key = patron.cache_key("az-page", registry_version, language, params, "anonymous")
        cached: tuple[bytes, bytes, str] | None = cache.get(key)
        if cached is None:
            lib = get_object_or_404(Library, code=library)
            body = _az_page(request, lib, _listing_html(request, lib, staff=False), params).content
            # Compressed once here rather than per request: a phone on a congested network
            # fetches ~5 KB instead of ~25 KB.
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            cached = (body, gzip.compress(body, compresslevel=6, mtime=0), etag)
            cache.set(key, cached, patron.PAGE_SECONDS)
        return _cached_response(request, *cached)
    lib = library_for(request, library, PUBLIC)
    staff = user_can(request.user, lib)
    key = patron.cache_key(
        "az-list", registry_version, language, params, "staff" if staff else "signed-in"
    )
    fragment: str | None = cache.get(key)
    if fragment is None:
        fragment = _listing_html(request, lib, staff)
        cache.set(key, fragment, patron.PAGE_SECONDS)
    return _az_page(request, lib, fragment, params)


def _az_page(
    request: HttpRequest, lib: Library, fragment: str, params: list[tuple[str, str]]
) -> HttpResponse:
    query = urlencode(params)
    context = {
        "library": lib,
        "listing_html": mark_safe(fragment),  # noqa: S308 - rendered by our own template, autoescaped
        "lang_query": query,
        "page_path": request.path + (f"?{query}" if query else ""),
    }
    return render(request, "registry/az.html", context)


def _cached_response(request: HttpRequest, body: bytes, gzipped: bytes, etag: str) -> HttpResponse:
    # `no-cache`: browsers revalidate (cheap: a 304 on the same ETag) because the same URL shows
    # another language once the language cookie changes.
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(gzipped, content_type="text/html; charset=utf-8")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Accept-Encoding"
    return response


@require_safe
def resource(request: HttpRequest, library: str, key: str) -> HttpResponse:
    lib = library_for(request, library, PUBLIC)
    anonymous = sessionless(request)
    res = get_object_or_404(
        Resource.objects.select_related("library", "vendor", "category", "parent"),
        library=lib,
        key=key,
    )
    staff = not anonymous and user_can(request.user, lib)
    if not res.is_active and not staff:
        raise Http404
    today = timezone.localdate()
    routes = res.ordered_routes(today)
    via_parent = None
    if not routes and res.parent is not None:
        # A sub-database without routes of its own is reached through its platform.
        res.parent.library = lib  # same library (Resource.clean): saves a query per link
        routes = res.parent.ordered_routes(today)
        via_parent = res.parent if routes else None
    states = patron.route_states([r.pk for r in routes])
    for route in routes:
        state = states.get(route.pk, "")
        # "Not checked yet" helps staff; to a patron it is noise next to a link they can just try.
        route.state = "" if state == "unknown" and not staff else state
        route.days_left = (route.ends_on - today).days if route.ends_on else None
    if not res.is_active:
        messages.warning(
            request, translation.gettext("This resource is switched off: patrons do not see it.")
        )
    context = {
        "library": lib,
        "resource": res,
        "routes": routes,
        "via_parent": via_parent,
        "from_home": any(r.works_off_campus for r in routes),
        "children": list(res.children.active().order_by("name")),
        "show_account": (not anonymous) and patron.may_see_account(request.user, lib),
        "signed_in": not anonymous and request.user.is_authenticated,
        "staff": staff,
        "new": patron.is_new(res, today),
        "lang_query": "",
        "page_path": request.path,
    }
    return render(request, "registry/resource.html", context)


@login_required
def attention_export(request: HttpRequest, library: str) -> HttpResponse:
    """The dashboard's "needs attention" lists as XLSX (staff of the library only)."""
    lib = library_for(request, library, VIEW)
    response = HttpResponse(
        dashboard.attention_xlsx(lib),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"{lib.code}-registry-attention-{timezone.localdate():%Y%m%d}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
