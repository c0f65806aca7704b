"""Limits on anonymous use: API requests per minute and form submissions per hour, per address.

Each library sets its own limits (`Library.anon_api_per_minute`, `anon_forms_per_hour`; 0 = none)
and its campus's egress addresses (`rate_exempt_networks`): on the first morning of a closure a
whole campus may reach Lifeline through a handful of NAT addresses, and those must not be
throttled as one robot. Signed-in users and API clients with a token are not limited here.
The library is the one named in the URL (`/status/<code>/...`, `/lib/<code>/...`), else the
default library. Over the limit: HTTP 429 with `Retry-After` (seconds to the end of the window),
a JSON body for the API, a short page otherwise.

Counts live in the cache (fixed windows): exact across processes with Redis
(`LIFELINE_REDIS_URL`); with the local-memory cache each web process counts for itself.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from lifeline.core.clientip import client_ip
from lifeline.core.models import Library, parse_ip_ranges

# Sign-in is not "form use": the CARSI return (a POST from the IdP) and the login forms have
# their own protection (signatures, replay cache, axes) and a campus signs in through its NAT.
# The ISO 18626 endpoint is a peer library's system, not a person at a form: it proves itself
# with its shared secret per message and sends hundreds an hour from one address; counting it as
# form use answered 429 to well-behaved peers. It counts only its refused senders itself.
EXEMPT_VIEWS = frozenset(
    {
        "accounts:saml_acs",
        "accounts:login",
        "accounts:login_otp",
        "accounts:logout",
        "delivery:iso18626",
        # WeCom's servers post every user's message from a few addresses; each post is signed
        # and checked against replays (reference/channels/wecom.py).
        "reference:wecom",
        # Quiz answers carry a signed paper token (outreach/logic/answering.py), checked before
        # any database work; a campus of patrons answers from one NAT address.
        "outreach:answer",
        # Votes carry a signed ballot bound to the session cookie (selection/logic/ballot.py).
        "selection:vote",
    }
)
MEMO_SECONDS = 30.0
API_WINDOW = 60
FORM_WINDOW = 3600


@dataclass(frozen=True)
class Limits:
    library_id: int
    api_per_minute: int
    forms_per_hour: int
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


_memo: dict[str, tuple[float, Limits | None]] = {}


def limits_for(code: str | None, now: float | None = None) -> Limits | None:
    """The limits of the library named in the URL (or the default one), read at most every
    30 s per process: a surge must not cost a query per request."""
    now = time.monotonic() if now is None else now
    key = code or ""
    hit = _memo.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    if code:
        library = Library.objects.filter(code=code).first()
    else:
        from lifeline.core.views import default_library

        library = default_library()
    limits = (
        Limits(
            library.pk,
            library.anon_api_per_minute,
            library.anon_forms_per_hour,
            tuple(parse_ip_ranges(library.rate_exempt_networks)),
        )
        if library is not None
        else None
    )
    if len(_memo) > 1000:  # unknown codes in URLs must not grow the memo without bound
        _memo.clear()
    _memo[key] = (now + MEMO_SECONDS, limits)
    return limits


def forget() -> None:
    _memo.clear()


def exempt_address(address: str | None, code: str | None) -> bool:
    """Whether `address` is one of the campus egress addresses of the library `code` (or the
    default library): such an address is a whole campus behind NAT, never one robot."""
    if not address:
        return False
    try:
        limits = limits_for(code)
    except Exception:  # no database: no exemption
        return False
    return limits is not None and exempt(address, limits)


def exempt(address: str, limits: Limits) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in limits.exempt)


def hit(key: str, limit: int, window: int, now: float | None = None) -> float:
    """Count one use; return 0 when within `limit`, else the seconds until the window ends."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    slot = f"ratelimit:{key}:{start}"
    cache.add(slot, 0, timeout=window + 5)
    try:
        count = cache.incr(slot)
    except ValueError:  # evicted between add and incr
        cache.set(slot, 1, timeout=window + 5)
        count = 1
    return 0.0 if count <= limit else max(1.0, start + window - now)


def too_many(request: HttpRequest, api: bool, retry_after: float) -> HttpResponse:
    seconds = math.ceil(retry_after)
    message = _("Too many requests from your address. Please try again in %(seconds)d seconds.") % {
        "seconds": seconds
    }
    response: HttpResponse
    if api:
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "core/too_many.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if not getattr(settings, "RATE_LIMITS", True):
            return None
        api = request.path_info.startswith("/api/")
        if not api and request.method != "POST":
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in EXEMPT_VIEWS:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        if api and request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            return None  # a token client: DRF authenticates it (a wrong token gets 401)
        code = kwargs.get("code")
        try:
            limits = limits_for(code if isinstance(code, str) else None)
        except Exception:  # no database: the view answers for itself; a limit must not 500
            return None
        if limits is None:
            return None
        limit = limits.api_per_minute if api else limits.forms_per_hour
        # Behind a reverse proxy REMOTE_ADDR is the proxy: every patron would share one count.
        address = client_ip(request) or ""
        if not limit or exempt(address, limits):
            return None
        bucket = "api" if api else "form"
        wait = hit(
            f"{bucket}:{limits.library_id}:{address[:64]}",
            limit,
            API_WINDOW if api else FORM_WINDOW,
        )
        return too_many(request, api, wait) if wait else None
