"""What the patron A–Z list and the per-resource access guide show, apart from HTML.

The A–Z list is the page a whole campus opens at once when the library closes its doors, so
everything here is built to be cached: the letter/ordering index of a library is computed once
per registry version (`Library.registry_changed_at`, bumped on every registry change) and
rendered pages are keyed on that version too, so a change shows up on the next request without
any explicit invalidation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from lifeline.core.models import Library, Patron
from lifeline.core.permissions import user_can
from lifeline.registry.choices import ROUTE_COLOURS, ROUTE_PREFERENCE, RouteKind
from lifeline.registry.models import AccessRoute, Resource

LETTERS = [*string.ascii_uppercase, "#"]
PER_PAGE = 50
# A resource whose subscription started this recently carries a "new" marker.
NEW_DAYS = 90
# Rendered anonymous pages also expire on their own so that what the registry version does not
# cover (an emergency banner declared meanwhile) shows within a minute.
PAGE_SECONDS = 60
INDEX_SECONDS = 24 * 3600


def initial(text: str) -> str:
    """The A–Z letter of a name: its first Latin letter, or the pinyin initial of a hanzi."""
    for ch in unicodedata.normalize("NFKC", text):
        if unicodedata.category(ch)[0] in "PSZC":
            continue  # leading punctuation ("(", "《") or spaces say nothing about the name
        if ch.isascii():
            if ch.isalpha():
                return ch.upper()
            return "#"  # a digit
        first = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
        if first and first[0][:1].isascii() and first[0][:1].isalpha():
            return first[0][0].upper()
        return "#"
    return "#"


def sort_key(text: str) -> str:
    """Pinyin order for Chinese names (code-point order would scatter them), plain for Latin."""
    # Twenty characters order any real list; converting whole long names is wasted work.
    head = unicodedata.normalize("NFKC", text[:20])
    return " ".join(lazy_pinyin(head, errors="default")).casefold()


@dataclass(frozen=True)
class IndexEntry:
    letter_zh: str
    key_zh: str
    letter_en: str
    key_en: str

    def letter(self, english: bool) -> str:
        return self.letter_en if english else self.letter_zh

    def key(self, english: bool) -> str:
        return self.key_en if english else self.key_zh


def version(library: Library) -> str:
    """Everything that changes what a patron page shows, except the request itself."""
    stamp = library.registry_changed_at.timestamp()
    return f"{library.pk}:{stamp:.6f}:{timezone.localdate().isoformat()}"


def version_of(code: str) -> str | None:
    """The registry version of the library with this code, or None when there is no such library.

    Hand-written SQL on purpose: this runs on every A–Z request, cached or not, and the ORM costs
    ten times the query itself here (measured: ~0.8 ms against ~0.05 ms on a busy 2-core machine).
    The timestamp stays the database's own text (it only has to change when the registry does).
    """
    table = Library._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, registry_changed_at FROM {table} WHERE code = %s", [code])  # noqa: S608 - table name from the model
        row = cursor.fetchone()
    if row is None:
        return None
    stamp = str(row[1]).replace(" ", "T")  # cache keys must not contain spaces (memcached)
    return f"{row[0]}:{stamp}:{timezone.localdate().isoformat()}"


def az_index(library: Library) -> dict[int, IndexEntry]:
    """Letter and ordering key of every active top-level resource, cached per registry version."""
    key = f"registry:az-index:{version(library)}"
    index: dict[int, IndexEntry] | None = cache.get(key)
    if index is None:
        rows = (
            Resource.objects.filter(library=library)
            .active()
            .top_level()
            .values_list("id", "name", "name_en")
        )
        index = {}
        for pk, name, name_en in rows:
            zh_key = sort_key(name)
            english = name_en or name
            index[pk] = IndexEntry(
                initial(name), zh_key, initial(english), sort_key(name_en) if name_en else zh_key
            )
        cache.set(key, index, INDEX_SECONDS)
    return index


@dataclass
class Filters:
    query: str = ""
    language: str = ""
    category: int | None = None
    content_type: str = ""
    from_home: bool = False
    letter: str = ""

    @property
    def active(self) -> bool:
        return bool(
            self.query
            or self.language
            or self.category
            or self.content_type
            or self.from_home
            or self.letter
        )


@dataclass
class Listing:
    resource_ids: list[int]
    letters_present: set[str] = field(default_factory=set)


def matching_ids(library: Library, filters: Filters, on: dt.date | None = None) -> list[int]:
    """Ids of the top-level active resources that pass every filter except the letter."""
    qs = Resource.objects.filter(library=library).active().top_level()
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    if filters.content_type:
        qs = qs.with_content_type(filters.content_type)
    if filters.from_home:
        qs = qs.works_from_home(on)
    if filters.query:
        # A hit on a sub-database brings up its parent, under which it is listed.
        hits = Resource.objects.filter(library=library).active().search(filters.query)
        qs = qs.filter(pk__in=hits.values("pk")) | qs.filter(pk__in=hits.values("parent_id"))
    return list(qs.values_list("pk", flat=True).distinct())


def az_listing(
    library: Library, filters: Filters, english: bool, on: dt.date | None = None
) -> Listing:
    index = az_index(library)
    ids = [pk for pk in matching_ids(library, filters, on) if pk in index]
    letters_present = {index[pk].letter(english) for pk in ids}
    if filters.letter:
        ids = [pk for pk in ids if index[pk].letter(english) == filters.letter]
    ids.sort(key=lambda pk: (index[pk].letter(english), index[pk].key(english), pk))
    return Listing(ids, letters_present)


def route_badges(routes: list[AccessRoute]) -> list[tuple[str, str, str]]:
    """(kind, label, colour) of each distinct current route kind, best first."""
    kinds = sorted({r.kind for r in routes}, key=lambda k: ROUTE_PREFERENCE.index(RouteKind(k)))
    return [(k, str(RouteKind(k).label), ROUTE_COLOURS[RouteKind(k)]) for k in kinds]


def is_new(resource: Resource, on: dt.date | None = None) -> bool:
    day = on or timezone.localdate()
    start = resource.subscription_start
    return bool(start and day - dt.timedelta(days=NEW_DAYS) <= start <= day)


def page_resources(ids: list[int], on: dt.date | None = None) -> list[Resource]:
    """The resources of one page with current routes and active sub-databases: four queries."""
    current = AccessRoute.objects.current(on)
    children = (
        Resource.objects.active()
        .order_by("name")
        .prefetch_related(Prefetch("routes", queryset=current, to_attr="current_routes"))
    )
    qs = (
        Resource.objects.filter(pk__in=ids)
        .select_related("category")
        .prefetch_related(
            Prefetch("routes", queryset=current, to_attr="current_routes"),
            Prefetch("children", queryset=children, to_attr="active_children"),
        )
    )
    by_id = {r.pk: r for r in qs}
    resources = [by_id[pk] for pk in ids if pk in by_id]
    for r in resources:
        r.badges = route_badges(r.current_routes)
        r.new = is_new(r, on)
        for child in r.active_children:
            child.badges = route_badges(child.current_routes)
    return resources


def cache_key(
    kind: str, registry_version: str, language: str, params: list[tuple[str, str]], audience: str
) -> str:
    digest = hashlib.sha256(repr(sorted(params)).encode()).hexdigest()[:32]
    return f"registry:{kind}:{registry_version}:{language}:{audience}:{digest}"


# --- the access guide of one resource ----------------------------------------------


def may_see_account(user: Any, library: Library) -> bool:
    """Shared account credentials go to signed-in patrons and staff of this library only."""
    if not user.is_authenticated:
        return False
    if user_can(user, library):
        return True
    return Patron.objects.filter(user=user, library=library).exists()


def route_states(route_ids: list[int]) -> dict[int, str]:
    """Current monitoring state per route, or nothing while the health app does not provide it."""
    try:
        from lifeline.health.services import current_states
    except ImportError:
        return {}
    if not route_ids:
        return {}
    return current_states(route_ids)
