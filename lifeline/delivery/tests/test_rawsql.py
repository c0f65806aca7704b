"""`logic/rawsql.py` on PostgreSQL: its statements are really prepared on the server (Django
opens connections with psycopg's preparing off, which made `prepare=True` a no-op), and the
connection's other statements are left as Django makes them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from lifeline.delivery.logic import rawsql
from lifeline.delivery.models import DeliveryRequest

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
