"""The URL rules page: classify pasted URLs, try a rule on test URLs, save it; hostile users."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from lifeline.analytics.models import LogRule
from lifeline.conftest import client_for

pytestmark = pytest.mark.django_db
URL = reverse("analytics:log_rules")
RULE = {
    "host": "example-db.com",
    "pattern": r"^/view/(?P<unit>[0-9]+)",
    "cls": "request",
    "unit_kind": "proprietary",
    "data_type": "database",
    "access": "controlled",
    "test_urls": "https://www.example-db.com/view/123\nhttps://www.example-db.com/about",
}


def test_classify_shows_class_and_rule(librarian_a: Any) -> None:
    client = client_for(librarian_a)
    page = client.get(URL, {"urls": "https://pubs.acs.org/doi/full/10.1021/x.1\n\n" + "x" * 20000})
    assert page.status_code == 200
    assert b"acs:full-html" in page.content and b"10.1021/x.1" in page.content


def test_try_then_save_a_rule(librarian_a: Any, library_a: Any) -> None:
    client = client_for(librarian_a)
    tried = client.post(URL, {**RULE, "try": "1", "library": library_a.code})
    assert tried.status_code == 200 and not LogRule.objects.exists()
    assert b"library:r0" in tried.content and b"generic:page" in tried.content
    saved = client.post(URL, {**RULE, "save": "1", "library": library_a.code})
    assert saved.status_code == 302
    rule = LogRule.objects.get()
    assert (rule.library, rule.host, rule.created_by) == (library_a, "example-db.com", librarian_a)


@pytest.mark.parametrize(
    "change", [{"pattern": "(?<=x)y"}, {"pattern": "(["}, {"host": "no host"}, {"cls": "x"}]
)
def test_a_broken_rule_is_refused(librarian_a: Any, change: dict[str, str]) -> None:
    page = client_for(librarian_a).post(URL, {**RULE, **change, "save": "1"})
    assert page.status_code == 400 and not LogRule.objects.exists()


def test_hostile_users(
    client: Any, patron_a: Any, tech_a: Any, librarian_b: Any, library_a: Any
) -> None:
    assert client.get(URL).status_code == 302  # anonymous: to the login page
    assert client_for(patron_a).get(URL).status_code == 403
    # Staff without analytics.change may look but not add.
    assert client_for(tech_a).get(URL).status_code == 200
    assert client_for(tech_a).post(URL, {**RULE, "save": "1"}).status_code == 403
    rule = LogRule.objects.create(library=library_a, host="example.org", pattern="^/", cls="none")
    delete = reverse("analytics:log_rule_delete", args=[rule.pk])
    assert client_for(librarian_b).post(delete).status_code == 404
    assert client_for(tech_a).post(delete).status_code == 404
    # Another library's staff never sees library A's rules.
    page = client_for(librarian_b).get(URL, {"library": library_a.code})
    assert b"example.org" not in page.content


def test_both_languages(librarian_a: Any) -> None:
    client = client_for(librarian_a)
    assert "网址规则" in client.get(URL).content.decode()
    client.cookies["lifeline_lang"] = "en"
    assert "The library's own rules" in client.get(URL).content.decode().replace("&#x27;", "'")


def test_host_from_the_log_page_is_filled_in(librarian_a: Any) -> None:
    page = client_for(librarian_a).get(URL, {"host": "www.example-db.com"})
    assert 'value="www.example-db.com"' in page.content.decode()
