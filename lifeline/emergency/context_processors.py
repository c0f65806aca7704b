"""`active_emergency` for the banner on every page (lifeline/templates/core/_emergency_banner.html).

This runs on every patron page, the A–Z list included, so it costs one cache read: the
library's code → id and its "event in force" facts are both cached, and the event facts are
forgotten whenever an event is declared, changes level or stands down.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from lifeline.emergency.choices import ROMAN, EventCategory
from lifeline.emergency.services import active_summary

LIBRARY_KEY = "emergency:library:{}"
# A per-process memo in front of the shared cache: the answer for (library code, language) is
# reused for LOCAL_SECONDS, so a busy process pays a dictionary lookup, not a cache round trip
# and a render. Other processes see a change within LOCAL_SECONDS; this one at once (see
# services.forget_active). Capped, since the code comes from the URL.
LOCAL_SECONDS = 2.0
LOCAL_MAX = 1000
LOCAL: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def _library_id(request: HttpRequest) -> int | None:
    match = getattr(request, "resolver_match", None)
    code = match.kwargs.get("library") if match is not None else None
    key = LIBRARY_KEY.format(code or "")
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    from lifeline.core.models import Library

    if code:
        lib_id = Library.objects.filter(code=code).values_list("pk", flat=True).first()
    else:
        from lifeline.core.views import default_library

        lib = default_library()
        lib_id = lib.pk if lib else None
    cache.set(key, lib_id or 0, 300)
    return lib_id


def active_emergency(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    key = ((match.kwargs.get("library") if match is not None else None) or "", get_language() or "")
    now = time.monotonic()
    hit = LOCAL.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    answer = _answer(request)
    if len(LOCAL) >= LOCAL_MAX:
        LOCAL.clear()
    LOCAL[key] = (now + LOCAL_SECONDS, answer)
    return answer


def forget_local() -> None:
    LOCAL.clear()


def _answer(request: HttpRequest) -> dict[str, Any]:
    lib_id = _library_id(request)
    summary = active_summary(lib_id) if lib_id else None
    if not summary:
        return {"active_emergency": None}
    english = (get_language() or "").startswith("en")
    notice = summary["notice_en"] if english and summary["notice_en"] else summary["notice"]
    head = _("Emergency service mode (%(cat)s, level %(level)s).") % {
        "cat": EventCategory(summary["category"]).label,
        "level": ROMAN[summary["level"]],
    }
    return {
        "active_emergency": {
            "banner_text": f"{head} {notice}".strip(),
            "services_url": reverse("emergency:services", args=[summary["code"]]),
            "services_link_text": _("Services during the emergency"),
        }
    }
