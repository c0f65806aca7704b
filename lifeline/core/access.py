"""The one way a page turns a library code from its URL into a `Library` (issue 21, finding 3).

    lib = library_for(request, code, "view", write="delivery.change")

A patron of library A once posted `/delivery/<B>/new/` and the request landed in B's queue: the
view looked the library up by its code and checked nothing. So every page view that takes a
library from its URL (path or `?library=`) names what the user must be to read it and to write
to it, and this function decides, as the API does:

- `PUBLIC`: anyone, signed in or not (the A–Z list, a resource page, the status page and its
  feeds, the fault-report form: a patron reaching a library's page from a link must not need an
  account there);
- `PATRON`: a patron of this library, or any staff role of it (filing and reading one's own
  delivery requests); a patron of another library is refused;
- any action of `core.permissions` (`"view"`, `"delivery.change"`, ...): a staff role of this
  library that allows it (superusers everywhere).

`write` (the action for POST, PUT, PATCH, DELETE) defaults to `read`. An unknown code is 404, a
refusal 403. The request remembers what was checked (`request.lifeline_library`), so the
persona walk can prove that every library URL went through here.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from lifeline.core import rows
from lifeline.core.models import Library, Patron
from lifeline.core.permissions import VIEW, user_can

PUBLIC = "public"
PATRON = "patron"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def patron_record(user: object) -> Patron | None:
    """The user's patron row (a user is a patron of one library at most), read once per user
    object, i.e. once per request: a page asking "is this a patron here?" and then "of which
    college?" cost two queries."""
    pk = getattr(user, "pk", None)
    if not getattr(user, "is_authenticated", False) or pk is None:
        return None
    cache = user.__dict__
    if "_lifeline_patron" not in cache:
        # As `Patron.objects.filter(user_id=pk).first()`, without the ORM's cost (core/rows.py).
        cache["_lifeline_patron"] = rows.by_unique(Patron, "user", pk)
    found: Patron | None = cache["_lifeline_patron"]
    return found


def is_patron(user: object, library: Library) -> bool:
    patron = patron_record(user)
    return patron is not None and patron.library_id == library.pk


def allowed(request: HttpRequest, library: Library, action: str) -> bool:
    if action == PUBLIC:
        return True
    if action == PATRON:
        return user_can(request.user, library, VIEW) or is_patron(request.user, library)
    return user_can(request.user, library, action)


def mark_public(request: HttpRequest, code: object) -> None:
    """For a public page's cached hot path, which answers without loading the library."""
    request.lifeline_library = (str(code), PUBLIC)  # type: ignore[attr-defined]


def library_for(
    request: HttpRequest, code: object, read: str = VIEW, *, write: str | None = None
) -> Library:
    """The library named by `code` if the user may do this request's action there."""
    action = read if request.method in SAFE_METHODS else (write or read)
    request.lifeline_library = (str(code), action)  # type: ignore[attr-defined]
    if not isinstance(code, str) or not code or len(code) > 32:
        raise Http404
    library: Library | None = rows.by_unique(Library, "code", code)
    if library is None:
        raise Http404
    if not allowed(request, library, action):
        raise PermissionDenied
    return library
