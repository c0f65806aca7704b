"""The session store (lifeline/core/sessions.py) reads as Django's database store does, in one
statement: the data of a live session; nothing, and no key, for an expired, deleted, unknown or
malformed one. And `core.rows.by_unique`, which the access checks read libraries and patron rows
with, gives what the ORM gives."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from lifeline.conftest import PASSWORD, client_for
from lifeline.core import rows
from lifeline.core.access import patron_record
from lifeline.core.models import Library, Membership, Patron
from lifeline.core.permissions import library_ids_for
from lifeline.core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_engine_is_ours() -> None:
    assert import_module(settings.SESSION_ENGINE).SessionStore is SessionStore


def test_reads_as_djangos_store(django_assert_num_queries: Any) -> None:
    made = SessionStore()
    made["who"] = "读者"
    made.create()
    key = made.session_key
    with django_assert_num_queries(1):
        assert SessionStore(key).load() == {"who": "读者"}
    assert DjangoStore(key).load() == {"who": "读者"}
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(1))
    for store in (SessionStore(key), DjangoStore(key)):
        assert store.load() == {} and store.session_key is None
    with django_assert_num_queries(0):  # too short to be a key: Django drops it unread
        assert SessionStore("short").load() == {}
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_sign_out_ends_the_session(patron_a: Any) -> None:
    client = Client()
    assert client.login(username="patron_a", password=PASSWORD)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load()
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get("/selection/nefu/").status_code == 200
    client.post("/accounts/logout/")
    assert SessionStore(key).load() == {}
    assert stolen.get("/selection/nefu/").status_code == 302  # to the sign-in page


def test_by_unique_as_the_orm(library_a: Library, patron_a: Any, librarian_a: Any) -> None:
    fields = [f.attname for f in Library._meta.concrete_fields]
    got = rows.by_unique(Library, "code", library_a.code)
    expected = Library.objects.get(code=library_a.code)
    assert [getattr(got, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert rows.by_unique(Library, "code", "nowhere") is None
    patron = patron_record(patron_a)
    assert patron is not None and patron.pk == Patron.objects.get(user=patron_a).pk
    assert patron_record(librarian_a) is None
    with pytest.raises(ValueError, match="unique"):
        rows.by_unique(Library, "name", "x")
    assert library_ids_for(librarian_a) == {library_a.pk}
    Membership.objects.filter(user=librarian_a).update(is_active=False)
    fresh = get_user_model().objects.get(pk=librarian_a.pk)  # roles are read once per user object
    assert library_ids_for(fresh) == set()
    assert client_for(fresh).get(f"/selection/{library_a.code}/manage/").status_code == 403


def test_the_user_is_read_as_the_orm_reads_it(patron_a: Any, rf: Any) -> None:
    """core.backends.ModelBackend: the signed-in user in one hand-written statement, the same
    instance as the ORM's; nobody for an inactive user, an unknown or a malformed id."""
    from django.contrib.auth import get_user
    from django.contrib.auth.backends import ModelBackend as DjangoBackend

    from lifeline.core.backends import ModelBackend

    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    got = ModelBackend().get_user(str(patron_a.pk))
    expected = DjangoBackend().get_user(str(patron_a.pk))
    assert [getattr(got, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert got._state.adding is False and got._state.db == "default"
    assert ModelBackend().get_user(patron_a.pk + 1000) is None
    assert ModelBackend().get_user("abc") is None
    get_user_model().objects.filter(pk=patron_a.pk).update(is_active=False)
    assert ModelBackend().get_user(patron_a.pk) is None
    # Through a request: the session names the backend; the user is read in one statement.
    get_user_model().objects.filter(pk=patron_a.pk).update(is_active=True)
    store = SessionStore()
    store["_auth_user_id"] = str(patron_a.pk)
    store["_auth_user_backend"] = "lifeline.core.backends.ModelBackend"
    store["_auth_user_hash"] = patron_a.get_session_auth_hash()
    store.create()
    request = rf.get("/")
    request.session = SessionStore(store.session_key)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert get_user(request).pk == patron_a.pk
    # The session, then the user.
    assert ["django_session" in q["sql"] for q in queries] == [True, False]


def test_sessions_naming_djangos_backend_stay_signed_in(patron_a: Any) -> None:
    """A session written before core.backends was the sign-in backend names Django's
    ModelBackend: its owner is still signed in (Django refuses a backend it is not configured
    with), and the next sign-in names ours."""
    store = SessionStore()
    store["_auth_user_id"] = str(patron_a.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = patron_a.get_session_auth_hash()
    store.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = str(store.session_key)
    assert client.get("/selection/nefu/").status_code == 200
    fresh = Client()
    assert fresh.login(username="patron_a", password=PASSWORD)
    key = fresh.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load()["_auth_user_backend"] == "lifeline.core.backends.ModelBackend"
