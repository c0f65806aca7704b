from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from lifeline.core.audit import acting_as

SUPPORTED = {code for code, _ in settings.LANGUAGES}


class LanguageMiddleware:
    """Chinese unless the patron chose otherwise: `?lang=en` (kept in a cookie), then the cookie.

    Accept-Language is ignored on purpose: the library's audience reads Chinese first, and one
    language per cookie keeps cached pages simple.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.GET.get("lang", "")
        chosen = {"zh": "zh-hans", "zh-cn": "zh-hans", "cn": "zh-hans"}.get(
            chosen.lower(), chosen.lower()
        )
        lang = (
            chosen
            if chosen in SUPPORTED
            else request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        )
        if lang not in SUPPORTED:
            lang = settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        if chosen in SUPPORTED and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        response.headers.setdefault("Content-Language", lang)
        return response


# Endpoints that prove who is calling with a signed token of their own and never read the session
# (outreach's quiz answers: 10,000 patrons at once; selection's votes, 2,000 at once); reading
# it here would cost two queries each.
SESSION_FREE_PATHS = ("/outreach/a/answer/", "/selection/c/vote/")


class AuditUserMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in SESSION_FREE_PATHS:
            return self.get_response(request)
        # Only touch request.user (and so the session) when a session cookie came: reading the
        # session adds "Vary: Cookie", which would stop anonymous pages from being cached.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        with acting_as(user):
            return self.get_response(request)


# No inline scripts or styles anywhere: scripts and styles come from our own static files only.
# `form-action 'self'` also covers redirects after a form post, so the CARSI list uses links.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
# Django's admin still writes a few inline styles (never inline scripts); staff only.
ADMIN_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# The Swagger UI page (the split view: its start-up script is a file, not inline) keeps one
# inline <style>; ReDoc starts a blob worker.
API_DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + (
    "; worker-src 'self' blob:"
)
# JSON, XML, CSV, files: nothing in them may load or run anything.
NON_HTML_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


# On every response, whatever it is (also the lean quiz answer, outreach/lean.py).
FIXED_HEADERS = (
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
)


def policy_for(path: str, content_type: str) -> str:
    if path.startswith("/admin/"):
        return ADMIN_CSP
    if path.startswith(("/api/docs", "/api/redoc")):
        return API_DOCS_CSP
    if content_type.startswith("text/html") or not content_type:
        return CSP
    return NON_HTML_CSP


def refuse_nul(request: HttpRequest) -> HttpResponse | None:
    """A NUL character in a query parameter reaches no view: PostgreSQL refuses it in text
    (a 500 deep inside a filter), and no honest search or filter needs one."""
    if "%00" not in request.META.get("QUERY_STRING", ""):
        return None
    message = _("A request parameter contains a NUL character, which is not allowed.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class SecurityHeadersMiddleware:
    """CSP and the cross-origin headers on every response (Django's SecurityMiddleware adds
    nosniff, Referrer-Policy and HSTS; XFrameOptionsMiddleware adds X-Frame-Options)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = refuse_nul(request) or self.get_response(request)
        content_type = response.headers.get("Content-Type", "")
        response.headers.setdefault(
            "Content-Security-Policy", policy_for(request.path, content_type)
        )
        for name, value in FIXED_HEADERS:
            response.headers.setdefault(name, value)
        # A signed-in page must not be kept by a shared cache (a campus proxy) for the next person.
        # Cache-Control first: a response that set its own needs no session read to decide.
        user = getattr(request, "user", None)
        if "Cache-Control" not in response.headers and user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-cache"
        return response
