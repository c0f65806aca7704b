from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from lifeline.core.models import Library


def az(request: HttpRequest, library: str) -> HttpResponse:
    lib = get_object_or_404(Library, code=library)
    return render(request, "registry/az.html", {"library": lib, "resources": lib.resources.active().top_level()})
