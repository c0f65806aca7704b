"""Every page with a library in its URL, GET and POST, as a patron and a librarian of another
library (issue 21, finding 3: a patron of A posted `/delivery/<B>/new/` and it landed in B's
queue).

The rule, stated once: a page that takes a library from its URL resolves it through
`lifeline.core.access.library_for` with what the user must be to read it and to write to it.
Public pages (below) are readable by anyone and refuse POST (405), except the public fault-report
form; every other page answers 403 to someone who is neither a patron nor staff of that library
(PATRON pages) or lacks the staff role (staff pages). New URL patterns are walked the day they
are added; one that does not go through the resolver fails here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from lifeline.accounts.tests import urlwalk, world
from lifeline.conftest import PASSWORD, client_for
from lifeline.core.access import PUBLIC
from lifeline.core.models import Patron

LIBRARY_PARAM = re.compile(r"<(?:[^>:]+:)?(library|code|library_code)>")
# The pages anyone may read (no account at that library): the A–Z list and resource pages,
# the status page with its feeds and public incidents, the emergency services page, and the
# fault-report form.
PUBLIC_PAGES = {
    "registry:az",
    "registry:resource",
    "health:page",
    "health:feed",
    "health:json",
    "health:incident",
    "health:report",
    "emergency:services",
    # Signed reports anyone may check (issue 13), the events list and its iCalendar feed.
    "research:verify",
    "research:verify_upload",
    "outreach:index",
    "outreach:calendar",
    "outreach:humans",  # the human library's books (issue 14)
    # push (issue 11): published announcements, their feeds and the subscribe form.
    "push:index",
    "push:detail",
    "push:feed",
    "push:topic_feed",
    "push:subscribe",
    # The reference desk (issue 11): ask a question, the conversation found by its token, and
    # WeCom's signed callback.
    "reference:ask",
    "reference:thread",
    "reference:messages",
    "reference:solved",
    "reference:rate",
    "reference:wecom",
    # The knowledge base's help centre: public articles to anyone (issue 11).
    "knowledge:help",
    "knowledge:article",
}
# Public pages that accept a POST from anyone (rate-limited per address).
PUBLIC_FORMS = {
    "health:report",
    "research:verify_upload",
    "push:subscribe",
    "reference:ask",
    "reference:thread",
    "reference:solved",
    "reference:rate",
    "reference:wecom",
}
# A body with the fields most forms want, so that a view that forgot the check would act.
POST_BODY = {
    "title": "Walk",
    "doc_type": "foreign_article",
    "citation": "Walk. Journal 1 (2020).",
    "name": "Walk",
    "description": "walk",
    "note": "walk",
    "action": "start",
    "ids": "1",
    "drill": "on",
    "reports": "TR",
}


def patron_of(library: Any, username: str) -> Any:
    user = get_user_model().objects.create_user(username, f"{username}@example.edu", PASSWORD)
    Patron.objects.create(user=user, library=library)
    return user


def library_pages(library: Any) -> list[urlwalk.Walked]:
    """Pages, not the API: its viewsets narrow by `restrict` (core/tests/test_permissions.py)."""
    return [
        p
        for p in urlwalk.walk(library)
        if LIBRARY_PARAM.search(p.route) and not p.route.startswith("api/")
    ]


@pytest.mark.django_db
def test_every_library_page_refuses_another_librarys_people(
    library_a: Any, library_b: Any, librarian_b: Any
) -> None:
    world.build(library_a)
    pages = library_pages(library_a)
    names = {p.name for p in pages}
    # The walk is real: the delivery, emergency, health and registry pages are all in it.
    assert {
        "delivery:new",
        "delivery:queue",
        "emergency:declare",
        "health:staff_incidents",
    } <= names
    assert not PUBLIC_PAGES - names, PUBLIC_PAGES - names
    people = {
        "patron_b": client_for(patron_of(library_b, "patron_b")),
        "librarian_b": client_for(librarian_b),
    }
    problems: list[str] = []
    public: set[str] = set()
    for who, client in people.items():
        for page in pages:
            for method in ("GET", "POST"):
                response = (
                    client.get(page.url) if method == "GET" else client.post(page.url, POST_BODY)
                )
                checked = getattr(response.wsgi_request, "lifeline_library", None)
                where = f"{who} {method} {page.url} ({page.name}): {response.status_code}"
                if response.status_code == 405:
                    continue  # the wrong method: refused before any library is looked at
                if checked is None:
                    problems.append(f"{where}: the library was not resolved by library_for")
                    continue
                if checked[1] == PUBLIC:
                    public.add(page.name)
                    if method == "POST" and page.name not in PUBLIC_FORMS:
                        problems.append(f"{where}: a public page took a POST")
                    elif response.status_code >= 500:
                        problems.append(where)
                    continue
                if response.status_code != 403:
                    problems.append(f"{where}: expected 403 (action {checked[1]})")
    assert not problems, "\n".join(problems)
    assert public == PUBLIC_PAGES, f"public pages changed: {sorted(public ^ PUBLIC_PAGES)}"


@pytest.mark.django_db
def test_a_patron_of_another_library_cannot_file_a_request_there(
    library_a: Any, library_b: Any, patron_a: Any
) -> None:
    """The attack as the tester made it: a valid form, posted to the other library's page."""
    from lifeline.delivery.models import DeliveryRequest

    outsider = client_for(patron_of(library_b, "patron_b"))
    form = {"doc_type": "foreign_article", "title": "Planted", "form_token": "t-1"}
    assert outsider.post(f"/delivery/{library_a.code}/new/", form).status_code == 403
    assert outsider.get(f"/delivery/{library_a.code}/new/").status_code == 403
    assert not DeliveryRequest.objects.exists()
    # A's own patron still files there.
    response = client_for(patron_a).post(f"/delivery/{library_a.code}/new/", form)
    assert response.status_code == 302
    assert DeliveryRequest.objects.get().library == library_a


@pytest.mark.django_db
def test_unknown_library_is_404_and_anonymous_is_sent_to_sign_in(library_a: Any) -> None:
    client = Client()
    assert client.get("/delivery/nosuch/queue/").status_code in (302, 404)
    assert (
        client_for(get_user_model().objects.create_user("x", "x@e.edu", PASSWORD))
        .get("/delivery/nosuch/new/")
        .status_code
        == 404
    )
    assert client.get(f"/delivery/{library_a.code}/new/").status_code == 302
    assert client.get(f"/status/{library_a.code}/").status_code == 200
    assert client.post(f"/status/{library_a.code}/").status_code == 405
