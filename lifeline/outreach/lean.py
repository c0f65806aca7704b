"""The quiz answer below Django's middleware: the htmx form post to /outreach/a/answer/.

When 10,000 patrons answer at once, the request cycle around the answer's one SQL statement was
most of its cost (issue 14: about 1.1 ms of server CPU per answer against 1,000 answers/s on two
cores shared with PostgreSQL). Every middleware passes this request through untouched: the view
is csrf-exempt (the signed paper token, bound to the session cookie, is the proof), exempt from
the rate limits, reads neither session nor user (so no OTP, audit or axes work), sets no message
and serves no static file. So `lifeline/wsgi.py` hands it here, before Django's handler, and this
does what is left: the Host check, the language cookie, the view's own decision
(`views.answer_outcome`, `views.answer_fragment`: the same token checks and one statement), the
headers the middleware would add (a test compares them with the full stack's), and the request
metrics. It also skips the connection health check (`SELECT 1` before the first query of every
request, `CONN_HEALTH_CHECKS`): a connection that died since the last request fails the answer's
statement instead, and the answer is then handed to the full stack, which checks, reconnects and
answers (storing an answer twice stores the same value: the statement is an upsert).

Taken here only: POST, this exact path, no query string, `HX-Request: true`, a form-encoded body
within DATA_UPLOAD_MAX_MEMORY_SIZE and DATA_UPLOAD_MAX_NUMBER_FIELDS, an allowed Host and, with
SECURE_SSL_REDIRECT, a secure request. Anything else (the JSON body, the no-JavaScript form to the
attempt page, a bad Host, a redirect to https) goes to Django's full stack unchanged, the body
handed on as it came.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError, connection
from django.http import QueryDict
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils import timezone, translation

from lifeline.core.metrics import LATENCY, REQUESTS
from lifeline.core.middleware import FIXED_HEADERS, SUPPORTED, policy_for

PATH = "/outreach/a/answer/"
VIEW = "outreach:answer"
FORM = "application/x-www-form-urlencoded"
log = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def wrap(app: WSGIApp) -> WSGIApp:
    """The site's WSGI application with the htmx quiz answer taken before it."""

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == PATH
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("HTTP_HX_REQUEST") == "true"
        ):
            return answer(environ, start_response, app)
        return app(environ, start_response)

    return application


def _scheme(environ: Environ) -> str:
    """As `HttpRequest.scheme` decides it (behind a proxy, its forwarded-protocol header)."""
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, secure_value = header
        value = environ.get(name)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return str(environ.get("wsgi.url_scheme", "http"))


def _host_allowed(environ: Environ) -> bool:
    """`HttpRequest.get_host`'s check, without raising: a bad Host goes to Django (a 400)."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    else:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _body(environ: Environ) -> bytes | None:
    """The form body if this path may take it (else None, and nothing has been read)."""
    if environ.get("QUERY_STRING") or not _host_allowed(environ):
        return None
    if settings.SECURE_SSL_REDIRECT and _scheme(environ) != "https":
        return None
    kind, _sep, params = str(environ.get("CONTENT_TYPE", "")).partition(";")
    charset = params.strip().lower().removeprefix("charset=")
    if kind.strip().lower() != FORM or charset not in ("", "utf-8"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length <= 0 or (limit is not None and length > limit):
        return None
    body: bytes = environ["wsgi.input"].read(length)
    return body


def _headers(body: bytes, lang: str, secure: bool) -> list[tuple[str, str]]:
    """What the view and the middleware stack set on the htmx answer (a test holds them equal)."""
    headers = [
        ("Content-Type", f"text/html; charset={settings.DEFAULT_CHARSET}"),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", policy_for(PATH, "text/html")),
        *FIXED_HEADERS,
        ("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()),
        ("Content-Length", str(len(body))),
        ("Content-Language", lang),
    ]
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        value = policy if isinstance(policy, str) else ",".join(policy)
        headers.append(("Referrer-Policy", value))
    if secure and settings.SECURE_HSTS_SECONDS:
        sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            sts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            sts += "; preload"
        headers.append(("Strict-Transport-Security", sts))
    return headers


def answer(environ: Environ, start_response: StartResponse, app: WSGIApp) -> Iterable[bytes]:
    from lifeline.outreach.views import answer_fields, answer_fragment, answer_outcome

    began = time.perf_counter()
    body = _body(environ)
    if body is None:
        return app(environ, start_response)

    def full_stack() -> Iterable[bytes]:
        environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    try:
        post = QueryDict(body, encoding=settings.DEFAULT_CHARSET)
    except SuspiciousOperation:  # too many fields: Django answers it (400)
        return full_stack()
    cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
    lang = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    if lang not in SUPPORTED:
        lang = settings.LANGUAGE_CODE
    token, qid, raw = answer_fields(post)
    # What Django's request_started does for this thread's connection (drop it after an error or
    # past its age), without the health check: the statement itself is the check (see above).
    # A connection inside a transaction is not ours to close (tests run inside one).
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
        connection.health_check_done = True  # type: ignore[attr-defined]
    try:
        with translation.override(lang):
            now = timezone.now()
            _status, error, _value = answer_outcome(
                token, qid, raw, cookies.get(settings.SESSION_COOKIE_NAME, ""), now
            )
            out = answer_fragment(error, now).encode(settings.DEFAULT_CHARSET)
    except (OperationalError, InterfaceError):
        # The kept connection died (a restarted server): the full stack checks, reconnects and
        # answers, or says the service is down (core/dbdown.py).
        if not connection.in_atomic_block:
            connection.close()
        return full_stack()
    start_response("200 OK", _headers(out, lang, _scheme(environ) == "https"))
    REQUESTS.labels("POST", "2xx", VIEW).inc()  # as the full stack counts it: htmx gets a 200
    LATENCY.labels(VIEW).observe(time.perf_counter() - began)
    return [out]
