from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from lifeline.core.access import library_for
from lifeline.core.models import Library
from lifeline.core.permissions import is_staff_anywhere

# Apps that contribute a panel to the staff dashboard: each has `dashboard.panel(request, library)`
# returning a dict with "template" and its context, or None.
DASHBOARD_APPS = [
    "registry",
    "health",
    "emergency",
    "delivery",
    "analytics",
    "theses",
    "selection",
    "reports",
    "push",
    "reference",
]


def healthz(request: HttpRequest) -> HttpResponse:
    """A trivial endpoint: load balancers, and the reference point of the A–Z benchmark."""
    return HttpResponse("ok", content_type="text/plain")


def default_library() -> Library | None:
    qs = Library.objects.all()
    if settings.DEFAULT_LIBRARY:
        lib = qs.filter(code=settings.DEFAULT_LIBRARY).first()
        if lib:
            return lib
    return qs.order_by("pk").first()


def home(request: HttpRequest) -> HttpResponse:
    library = default_library()
    if library is None:
        return render(request, "core/empty.html")
    return redirect(reverse("registry:az", args=[library.code]))


def staff_libraries(request: HttpRequest) -> list[Library]:
    return list(Library.objects.restrict(request.user).order_by("code"))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not is_staff_anywhere(request.user):
        raise PermissionDenied
    libraries = staff_libraries(request)
    code = request.GET.get("library")
    # A library named in the URL goes through the one resolver (issue 21).
    library = library_for(request, code) if code else (libraries[0] if libraries else None)
    panels: list[dict[str, Any]] = []
    if library is not None:
        for app in DASHBOARD_APPS:
            try:
                module = importlib.import_module(f"lifeline.{app}.dashboard")
            except ModuleNotFoundError:
                continue
            panel = module.panel(request, library)
            if panel:
                panels.append(panel)
    return render(
        request,
        "core/dashboard.html",
        {"libraries": libraries, "library": library, "panels": panels},
    )
