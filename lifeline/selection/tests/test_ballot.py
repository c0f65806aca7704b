"""The thin vote (`POST /selection/c/vote/`, htmx or JSON) with the signed ballot the browse page
hands out: one statement a vote, bound to the session cookie, refusals without a 500; the no-JS
form path stays as it was."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from lifeline.conftest import client_for
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus
from lifeline.selection.logic import ballot
from lifeline.selection.models import Campaign, Title, Vote

pytestmark = pytest.mark.django_db
URL = "/selection/c/vote/"


def _page_ballot(client: Client, campaign: Campaign) -> str:
    page = client.get(f"/selection/{campaign.library.code}/c/{campaign.pk}/", {"cls": "S"})
    html = page.content.decode()
    assert f'hx-post="{URL}"' in html and 'action="/selection/' in html  # both paths on the page
    found = re.search(
        r"hx-vals='\{&quot;b&quot;: &quot;([^&]+)&quot;\}'|hx-vals='\{\"b\": \"([^\"]+)\"\}'", html
    )
    assert found is not None
    return found.group(1) or found.group(2)


def _titles(n: int) -> list[int]:
    return list(Title.objects.filter(clc_class="S").order_by("id").values_list("id", flat=True)[:n])


def test_thin_vote_is_one_statement(
    shelf: Campaign, patron_a: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(patron_a)
    token = _page_ballot(client, shelf)
    first, second = _titles(2)
    with django_assert_num_queries(1):
        response = client.post(
            URL, {"b": token, "title": first, "reason": "study", "note": " 备课 "},
            headers={"HX-Request": "true"},
        )  # fmt: skip
    assert response.status_code == 200 and "badge green" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    vote = Vote.objects.get(title_id=first)
    assert (vote.user_id, vote.note, vote.origin, vote.campaign_id) == (
        patron_a.pk, "备课", "patron", shelf.pk,
    )  # fmt: skip
    # JSON, as a script would send it.
    response = client.post(
        URL, json.dumps({"b": token, "title": second, "reason": "teaching"}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200 and response.json() == {"marked": True, "title": second}
    # Twice: refused, said why, nothing doubled.
    again = client.post(URL, {"b": token, "title": first, "reason": "study"})
    assert again.status_code == 409 and "已选过" in again.json()["error"]
    assert Vote.objects.filter(user=patron_a).count() == 2


def test_thin_vote_refusals(shelf: Campaign, patron_a: Any, librarian_b: Any) -> None:
    client = client_for(patron_a)
    token = _page_ballot(client, shelf)
    first, second = _titles(2)
    # Another browser (another session cookie) with the same ballot: refused.
    other = client_for(patron_a)
    assert other.post(URL, {"b": token, "title": first, "reason": "study"}).status_code == 403
    # No cookie, a forged or edited ballot, a bad title id, a bad reason.
    assert Client().post(URL, {"b": token, "title": first, "reason": "study"}).status_code == 403
    forged = signing.dumps({"c": shelf.pk, "l": shelf.library_id, "u": librarian_b.pk,
                            "o": "staff", "w": 1, "g": "", "d": "x"}, salt="other")  # fmt: skip
    for bad in (forged, token[:-2] + "xx", "", "a" * 5000):
        assert client.post(URL, {"b": bad, "title": first, "reason": "study"}).status_code == 403
    assert client.post(URL, {"b": token, "title": "²", "reason": "study"}).status_code == 403
    assert client.post(URL, {"b": token, "title": first, "reason": "nope"}).status_code == 409
    assert client.post(URL, "{not json", content_type="application/json").status_code == 403
    assert client.get(URL).status_code == 405
    # A held title, and the campaign closed after the page was served.
    Title.objects.filter(pk=second).update(status="held")
    held = client.post(URL, {"b": token, "title": second, "reason": "study"})
    assert held.status_code == 409
    Campaign.objects.filter(pk=shelf.pk).update(status=CampaignStatus.CLOSED)
    closed = client.post(
        URL, {"b": token, "title": first, "reason": "study"}, headers={"HX-Request": "true"}
    )
    assert closed.status_code == 200 and 'class="error"' in closed.content.decode()
    assert not Vote.objects.exists()


def test_ballot_is_bound_to_device_and_signed(shelf: Campaign, patron_a: Any) -> None:
    made = services.ballot_for(shelf, patron_a)
    token = ballot.issue(made, "session-1")
    assert ballot.read(token, "session-1") == made
    with pytest.raises(ballot.BadBallot):
        ballot.read(token, "session-2")
    assert settings.SESSION_COOKIE_NAME  # the cookie the view binds to
