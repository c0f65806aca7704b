"""The demo's stand-in vendor site, its break/mend page and the local mailbox.

In demo mode (`LIFELINE_DEMO=1`, as `make demo` runs) the web server also answers as a loopback
stand-in for the demo's vendors at `/status/demo-vendor/<resource key>/`, and `loaddemo` gives a
few demo resources one route there, probed every minute. Staff break and mend those routes from
`/status/<code>/staff/demo-vendor/` (HTTP 503, the vendor's 200 "no access" page such as CNKI's
"IP 未授权", EZproxy's needhost page), so a visitor sees the probe fail, the incident open, the
status page change and, once the incident is escalated, the vendor's e-mail land in the mailbox
page: e-mail in demo mode goes through the outbox as always and is written by `MailboxBackend`
as one .eml file per message under `DATA_DIR/mailbox/` (nothing leaves the machine).

The mode of each stand-in page is a small JSON file in `DATA_DIR`: the web processes and the
worker read it, and it outlives neither the demo nor a reload.
"""

from __future__ import annotations

import email
import json
import os
import tempfile
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage as ParsedMessage
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.core.access import library_for
from lifeline.core.models import Library
from lifeline.health.logic.signatures import library as signature_library
from lifeline.health.models import ProbeConfig
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource, Vendor

LABEL = "stand-in vendor site (demo)"
MODES: dict[str, Any] = {
    "ok": gettext_lazy("Working"),
    "error": gettext_lazy("Server error (HTTP 503)"),
    "ip": gettext_lazy("The vendor's “no access” page (HTTP 200)"),
    "needhost": gettext_lazy("EZproxy “host not configured” page (HTTP 200)"),
}
# Demo resources that get a stand-in route: vendors whose failure pages the signature library
# knows (CNKI, Wanfang, VIP, ScienceDirect, Springer, IEEE); "no access" serves that platform's
# saved sample page, so the probe classes it down by the platform's own signature.
DEMO_RESOURCES = ("cnki", "wanfang", "vip", "sd", "springer", "iel")
MAILBOX_LIMIT = 200


def enabled() -> bool:
    return bool(getattr(settings, "DEMO_MODE", False))


def _modes_file() -> Path:
    return Path(settings.DATA_DIR) / "standin-vendor.json"


def modes() -> dict[str, str]:
    try:
        data = json.loads(_modes_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items() if v in MODES} if isinstance(data, dict) else {}


def set_mode(key: str, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(mode)
    current = modes()
    current[key] = mode
    path = _modes_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole and renamed: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".standin-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(current, handle)
    os.replace(tmp, path)


def standin_url(resource: Resource, base_url: str = "") -> str:
    base = (base_url or settings.SITE_URL).rstrip("/")
    return base + reverse("health:standin_page", args=[resource.key])


def setup(library: Library, admin: AbstractBaseUser | None, base_url: str = "") -> list[int]:
    """Give the demo resources a probed route on the stand-in site (idempotent); return the
    route ids. `admin` (a library administrator) allows the loopback target, as the form asks."""
    ids: list[int] = []
    for resource in Resource.objects.filter(
        library=library, key__in=DEMO_RESOURCES, parent__isnull=True
    ):
        route, _created = AccessRoute.objects.update_or_create(
            resource=resource,
            label=LABEL,
            defaults={"kind": RouteKind.OPEN_ACCESS, "url": standin_url(resource, base_url)},
        )
        config = ProbeConfig.for_route(route)
        if admin is not None:
            config.set_allow_private(True, admin)
        config.enabled = True
        config.interval_seconds = 60
        config.retries = 1
        config.retry_seconds = 5
        config.timeout_seconds = 10
        config.next_probe_at = timezone.now()
        config.save()
        set_mode(resource.key, "ok")
        ids.append(route.pk)
    return ids


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


def standin_page(request: HttpRequest, key: str) -> HttpResponse:
    """What the stand-in vendor answers (to the prober and to a patron who follows the route)."""
    if not enabled():
        raise Http404
    # Only resources given a stand-in route answer (no other resource is revealed).
    route = (
        AccessRoute.objects.filter(label=LABEL, resource__key=key)
        .select_related("resource")
        .first()
    )
    if route is None:
        raise Http404
    resource = route.resource
    mode = modes().get(key, "ok")
    name = escape(resource.name)
    if mode == "error":
        return _page("503 Service Unavailable", "<h1>503 Service Unavailable</h1>", status=503)
    if mode == "ip":
        return HttpResponse(_no_access_page(resource), content_type="text/html; charset=utf-8")
    if mode == "needhost":
        return _page(
            "Host not configured",
            f"<p>To allow http://{escape(key)}.example.com/ to be used, the following line must "
            "be added to the config.txt file of EZproxy:</p>"
            f"<pre>Host {escape(key)}.example.com</pre>",
        )
    return _page(
        name,
        f"<h1>{name}</h1><p>Stand-in vendor site of the Lifeline demo: search, browse and read "
        "full text here.</p>",
    )


def _no_access_page(resource: Resource) -> bytes:
    """The saved sample of the vendor's platform's first failure signature (CNKI's otherwise)."""
    lib = signature_library()
    keys = lib.platforms_of_vendor(resource.vendor.key if resource.vendor else "") or ("cnki",)
    platform = next(p for p in lib.platforms if p.key == keys[0])
    return platform.signatures[0].sample.read_bytes()


def _staff_library(request: HttpRequest, code: str, action: str) -> Library:
    # The library first (403 to another library's people, as every library page answers), then
    # whether this installation runs the demo at all.
    library = library_for(request, code, action)
    if not enabled():
        raise Http404
    return library


@login_required
def standin_admin(request: HttpRequest, code: str) -> HttpResponse:
    """Break and mend the stand-in routes; each change makes the route due at once."""
    library = _staff_library(request, code, "health.change")
    routes = list(
        AccessRoute.objects.filter(resource__library=library, label=LABEL)
        .select_related("resource", "probe")
        .order_by("resource__key")
    )
    if request.method == "POST":
        route = next((r for r in routes if str(r.pk) == request.POST.get("route", "")), None)
        mode = request.POST.get("mode", "")
        if route is None or mode not in MODES:
            return HttpResponse(_("Choose a stand-in route and a mode."), status=400)
        set_mode(route.resource.key, mode)
        ProbeConfig.objects.filter(route=route).update(
            next_probe_at=timezone.now(), pending_state="", pending_count=0
        )
        return redirect("health:standin_admin", code)
    current = modes()
    rows = [(r, current.get(r.resource.key, "ok")) for r in routes]
    return render(
        request,
        "health/standin.html",
        {"library": library, "rows": rows, "modes": list(MODES.items())},
    )


@dataclass
class Letter:
    name: str
    subject: str
    sender: str
    to: str
    date: str
    body: str


def _mailbox_dir() -> Path:
    return Path(settings.DATA_DIR) / "mailbox"


def _body(message: ParsedMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""


def letters(addresses: set[str]) -> list[Letter]:
    """The newest messages to any of `addresses` (lower case), newest first."""
    folder = _mailbox_dir()
    if not folder.is_dir():
        return []
    found: list[Letter] = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:MAILBOX_LIMIT]:
        try:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        except OSError:
            continue
        to = str(message.get("To", ""))
        if not any(a in to.lower() for a in addresses):
            continue
        found.append(
            Letter(
                path.stem,
                str(message.get("Subject", "")),
                str(message.get("From", "")),
                to,
                str(message.get("Date", "")),
                _body(message),
            )
        )
    return found


@login_required
def mailbox(request: HttpRequest, code: str) -> HttpResponse:
    """The stand-in vendors' inbox: what this library's vendors were sent (demo mode only)."""
    library = _staff_library(request, code, "health.change")
    addresses = {
        a.lower()
        for pair in Vendor.objects.filter(library=library).values_list("email", "escalation_email")
        for a in pair
        if a
    }
    return render(
        request, "health/mailbox.html", {"library": library, "letters": letters(addresses)}
    )


class MailboxBackend(BaseEmailBackend):
    """E-mail backend of the demo: each message becomes one .eml file under DATA_DIR/mailbox/."""

    def send_messages(self, email_messages: Any) -> int:
        folder = _mailbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not isinstance(message, EmailMessage) or not message.recipients():
                continue
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{get_random_string(6)}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
            sent += 1
        return sent
