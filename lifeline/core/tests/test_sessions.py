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
