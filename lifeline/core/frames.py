"""A page's frame rendered once per shape and filled in per request (issue 12).

Django's template engine spent ~1.2 ms of CPU on the frame of selection's browse page (the base
template's header, navigation, footer and the page's own headings and forms), the same text for
every request of one library, language and campaign but for a few values. `render_framed`
renders the template once with a marker in place of each per-request value (a "hole"), keeps the
text between the markers, and joins it with each request's values: a dictionary lookup and a
join instead of a template render.

What the frame may depend on is the caller's `key` (every value that chooses a branch of the
template or is printed unchanged: the campaign's name, whether there is a next page) plus what
is read here from the request as the context processors give it: the language, whether the user
is signed in and staff (the "Staff" link), the emergency banner. A request with flash messages
is not framed (None: the caller renders the page in full), nor is an anonymous one (the base
template prints its own path there). The CSRF token is a hole of its own (`csrf_token`, the
caller's if it has one, else masked here as `{% csrf_token %}` would). Holes must be printed
plainly (`{{ name }}`), never through a filter, which would change the marker. A test holds
the framed page equal to the full render.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Hashable
from typing import Any

from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from lifeline.core.context_processors import lifeline as lifeline_context
from lifeline.emergency.context_processors import active_emergency

# Markers in private-use characters around a per-process nonce: no template filter the holes
# pass through (escape, urlencode) changes them, and no stored text can forge one.
_NONCE = secrets.token_hex(8)
_MARK = re.compile("\ue000" + _NONCE + r":(\w+)\ue001")
CSRF = "csrf_token"

# (template, key, shape of the request) → the text between the holes and the holes' names.
# Bounded: keys come from stored rows (campaigns) and the request's language.
_FRAMES: dict[Hashable, tuple[list[str], list[str]]] = {}
MAX_FRAMES = 512


def _marker(name: str) -> str:
    return f"\ue000{_NONCE}:{name}\ue001"


def render_framed(
    request: HttpRequest,
    template: str,
    key: Hashable,
    context: dict[str, Any],
    holes: dict[str, str],
) -> str | None:
    """The template rendered with `context` and the holes' values (each already escaped or
    safe HTML), or None when this request cannot be framed (flash messages, anonymous user)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or len(get_messages(request)):
        return None
    emergency = active_emergency(request)["active_emergency"]
    shape = (
        template,
        key,
        get_language(),
        lifeline_context(request)["is_library_staff"],
        tuple(sorted(emergency.items())) if emergency else None,
        tuple(sorted(holes)),
    )
    frame = _FRAMES.get(shape)
    if frame is None:
        marked = {name: mark_safe(_marker(name)) for name in holes}  # noqa: S308 - our markers
        marked[CSRF] = mark_safe(_marker(CSRF))  # noqa: S308 - our marker
        text: str = render_to_string(template, {**context, **marked}, request)
        parts = _MARK.split(text)
        frame = (parts[0::2], parts[1::2])
        if len(_FRAMES) >= MAX_FRAMES:
            _FRAMES.clear()
        _FRAMES[shape] = frame
    texts, names = frame
    values = {**holes}
    if CSRF in names and CSRF not in values:
        values[CSRF] = get_token(request)  # sets the cookie's renewal, as the tag's render does
    out: list[str] = [texts[0]]
    for name, text in zip(names, texts[1:], strict=True):
        out.append(values[name])
        out.append(text)
    return "".join(out)


def forget() -> None:
    """Drop every frame (tests that change a template's inputs outside the key)."""
    _FRAMES.clear()
