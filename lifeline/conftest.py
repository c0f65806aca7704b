"""Named personas shared by every app's tests (healthchecks' hc/test.py style).

library_a / library_b: two libraries of one installation.
admin_a, librarian_a (e-resources), tech_a, reference_a, delivery_a, leader_a: staff of A.
librarian_b: e-resources librarian of B. patron_a: a student of A. stranger: signed in, no role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from lifeline.core.choices import PatronCategory, Role
from lifeline.core.models import Library, Membership, Patron

# Debian chromium in a container, for the phone-sized browser walks (`-m browser`).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A phone held upright (iPhone 12-14 size), as patrons read Lifeline inside WeChat.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
# One wait for every walk: the suite runs under `-n 2` on a 2-core CI machine that also runs
# PostgreSQL and chromium, where a page's htmx round trip has taken more than 15 s.
BROWSER_TIMEOUT_MS = 60_000


def signed_in_context(browser: Any, session: str, base_url: str, **extra: Any) -> Any:
    """A phone-sized context carrying a signed-in test client's session cookie."""
    context = browser.new_context(**PHONE, **extra)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])
    return context


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium, headless, for the phone-sized walks."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language (Chinese). The language middleware activates
    the request's language for the thread, and a test client request in one test would
    otherwise leave English active for the next test on the same worker."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


PASSWORD = "correct horse battery staple"  # noqa: S105 - test personas only


def make_staff(username: str, library: Library, role: str) -> Any:
    user = get_user_model().objects.create_user(
        username, f"{username}@example.edu", PASSWORD, is_staff=True
    )
    Membership.objects.create(user=user, library=library, role=role)
    return user


@pytest.fixture
def library_a(db: Any) -> Library:
    return Library.objects.create(
        code="nefu",
        name="东北林业大学图书馆",
        name_en="Northeast Forestry University Library",
        campus_ip_ranges="10.10.0.0/16\n202.118.0.0/20",
        carsi_idp_entity_id="https://idp.nefu.edu.cn/idp/shibboleth",
        proxy_prefix="https://ezproxy.nefu.edu.cn/login?url=",
        email="lib@nefu.example.edu",
    )


@pytest.fixture
def library_b(db: Any) -> Library:
    return Library.objects.create(code="hit", name="哈尔滨工业大学图书馆", name_en="HIT Library")


@pytest.fixture
def admin_a(library_a: Library) -> Any:
    return make_staff("admin_a", library_a, Role.ADMIN)


@pytest.fixture
def librarian_a(library_a: Library) -> Any:
    return make_staff("librarian_a", library_a, Role.ERESOURCES)


@pytest.fixture
def tech_a(library_a: Library) -> Any:
    return make_staff("tech_a", library_a, Role.TECH)


@pytest.fixture
def reference_a(library_a: Library) -> Any:
    return make_staff("reference_a", library_a, Role.REFERENCE)


@pytest.fixture
def delivery_a(library_a: Library) -> Any:
    return make_staff("delivery_a", library_a, Role.DELIVERY)


@pytest.fixture
def leader_a(library_a: Library) -> Any:
    return make_staff("leader_a", library_a, Role.LEADERSHIP)


@pytest.fixture
def librarian_b(library_b: Library) -> Any:
    return make_staff("librarian_b", library_b, Role.ERESOURCES)


@pytest.fixture
def patron_a(library_a: Library) -> Any:
    user = get_user_model().objects.create_user("patron_a", "patron_a@example.edu", PASSWORD)
    Patron.objects.create(
        user=user, library=library_a, category=PatronCategory.STUDENT, display_name="张三"
    )
    return user


@pytest.fixture
def stranger(db: Any) -> Any:
    return get_user_model().objects.create_user("stranger", "stranger@example.org", PASSWORD)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies["lifeline_lang"] = "en"
    return client
