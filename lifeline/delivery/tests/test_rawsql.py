"""`logic/rawsql.py` on PostgreSQL: its statements are really prepared on the server (Django
opens connections with psycopg's preparing off, which made `prepare=True` a no-op), and the
connection's other statements are left as Django makes them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from lifeline.delivery.logic import rawsql
from lifeline.delivery.models import DeliveryRequest, RequestEvent

pytestmark = pytest.mark.django_db


def _prepared(sql_start: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cur.fetchall() if row[0].startswith(sql_start)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_statements_are_prepared_once_per_connection(library_a: Any) -> None:
    req = DeliveryRequest.objects.create(library=library_a, title="A paper", item_key="raw:1")
    table = rawsql.qn(DeliveryRequest._meta.db_table)
    sql = f"SELECT id FROM {table} WHERE id = %s AND library_id = %s"  # noqa: S608 - model name
    for _ in range(3):
        assert rawsql.execute(sql, [req.pk, library_a.pk])[1] == [(req.pk,)]
    assert len(_prepared(f"SELECT id FROM {table} WHERE id = $1")) == 1  # noqa: S608
    # Django's own statements (client-side binding) are not prepared, nor is the threshold left
    # changed on the connection.
    assert connection.connection.prepare_threshold is None
    for _ in range(3):
        DeliveryRequest.objects.filter(pk=req.pk).exists()
    assert not _prepared('SELECT 1 AS "a"')


def test_statements_run_on_every_database(library_a: Any) -> None:
    req = DeliveryRequest.objects.create(library=library_a, title="A paper", item_key="raw:2")
    table = rawsql.qn(DeliveryRequest._meta.db_table)
    sql = f"SELECT title FROM {table} WHERE id = %s"  # noqa: S608 - model name
    assert rawsql.execute(sql, [req.pk])[1] == [("A paper",)]


def test_held_writes_go_with_the_next_insert(
    library_a: Any, django_assert_num_queries: Any
) -> None:
    """Inside `combined()` a history row and an UPDATE wait for the next INSERT and go with it
    as one statement on PostgreSQL (at once elsewhere); the INSERT still gets its id."""
    req = DeliveryRequest.objects.create(library=library_a, title="A paper", item_key="raw:3")
    pg = connection.vendor == "postgresql"
    with transaction.atomic(), django_assert_num_queries(1 if pg else 3), rawsql.combined():
        req.title = "Another title"
        rawsql.update_later(req)
        rawsql.insert_later(RequestEvent(request=req, actor_name="t", note="held"))
        event = rawsql.insert(RequestEvent(request=req, actor_name="t", note="main"))
    assert event.pk is not None
    assert DeliveryRequest.objects.get(pk=req.pk).title == "Another title"
    assert sorted(req.events.values_list("note", flat=True)) == ["held", "main"]


def test_held_writes_are_seen_by_any_later_statement(library_a: Any) -> None:
    """An ORM read, a second UPDATE of the same row and the block's end each send what is held
    first: nothing reads a row before its held write, and no write is lost."""
    req = DeliveryRequest.objects.create(library=library_a, title="A paper", item_key="raw:4")
    with transaction.atomic(), rawsql.combined():
        req.title = "First"
        rawsql.update_later(req)
        assert DeliveryRequest.objects.get(pk=req.pk).title == "First"
        req.title, req.note = "Second", "n1"
        rawsql.update_later(req, ["title"])
        req.note = "n2"
        rawsql.update_later(req, ["note"])
        rawsql.insert_later(RequestEvent(request=req, actor_name="t", note="last"))
    req.refresh_from_db()
    assert (req.title, req.note) == ("Second", "n2")
    assert list(req.events.values_list("note", flat=True)) == ["last"]


def test_held_writes_are_dropped_with_an_error(library_a: Any) -> None:
    req = DeliveryRequest.objects.create(library=library_a, title="A paper", item_key="raw:5")
    with pytest.raises(RuntimeError), transaction.atomic(), rawsql.combined():
        req.title = "Never"
        rawsql.update_later(req)
        rawsql.insert_later(RequestEvent(request=req, actor_name="t", note="never"))
        raise RuntimeError
    req.refresh_from_db()
    assert req.title == "A paper" and not req.events.exists()
    # Outside the block nothing is held.
    rawsql.insert_later(RequestEvent(request=req, actor_name="t", note="now"))
    assert req.events.count() == 1
