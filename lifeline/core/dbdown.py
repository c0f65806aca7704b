"""When the database is unreachable (issue 16, surge test): fail fast, say so kindly, recover.

A PostgreSQL restart or a network cut makes every query raise `OperationalError` (or
`InterfaceError` on a connection that died under us). Without this, patrons see the generic 500
page, and a worker loop dies. Here:

- `server_error` is Django's `handler500`: Django calls it for an exception raised anywhere in a
  request (view or middleware), inside the `except` block, so `sys.exc_info()` names the cause.
  A database outage answers 503 with `Retry-After`, a bilingual page rendered *without* the
  request's context processors (they read the session and the library: more queries that would
  fail), and JSON under /api/. Everything else still gets Django's 500 page.
- The settings give PostgreSQL a short `connect_timeout` (fail fast while the server is away)
  and `CONN_HEALTH_CHECKS` (a kept connection that died with the old server is replaced at the
  start of the next request); Django closes a connection that raised once the request ends, so
  no web thread keeps a broken one.
- `survive` runs one step of a background loop and waits out an outage instead of exiting.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

log = logging.getLogger(__name__)
# Seconds a client is asked to wait: a PostgreSQL restart takes a few seconds to a minute.
RETRY_AFTER = 15
OUTAGE = (OperationalError, InterfaceError)


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE)


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON for the API, otherwise a page in both languages."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": "Service temporarily unavailable (database). Please retry."}, status=503
        )
    else:
        response = HttpResponse(render_to_string("core/db_unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    if is_outage(sys.exc_info()[1]):
        return unavailable(request)
    return defaults.server_error(request)


class OutageLogFilter(logging.Filter):
    """One line, not a 60-line traceback, for each request answered 503 during an outage: at
    hundreds of requests a second the tracebacks filled the log and buried the moment the
    server went away. Other errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_outage(record.exc_info[1]) and isinstance(record.args, tuple):
            cause = str(record.exc_info[1]).strip().splitlines()[0][:200]
            record.msg = f"{record.msg} (database unavailable: %s)"
            record.args = (*(record.args or ()), cause)
            record.exc_info, record.exc_text = None, None
        return True


def reset_connections() -> None:
    """Drop every connection of this thread so the next query connects afresh (closing a
    broken one may itself raise; there is nothing to save in it)."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # the caller's transaction owns it; it has to roll back first
        with contextlib.suppress(Exception):
            conn.close()


def survive[T](step: Callable[[], T], what: str) -> T | None:
    """One step of a long loop; a database outage is logged and the step skipped (None), so
    the loop goes on and picks up again when the server is back."""
    try:
        return step()
    except OUTAGE as exc:
        log.warning("%s: database unavailable (%s); will retry", what, str(exc).strip()[:200])
        reset_connections()
        return None
