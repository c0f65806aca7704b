"""The floor for `bench iso18626`: the HTTP exchanges of one copy transaction against a handler
that does the least any ISO 18626 node must do, served the same way (granian, WSGI, 2 workers).

A POST is parsed, validated against the v1.2 schema (compiled once per process, as Lifeline
does), kept with one INSERT in PostgreSQL (autocommit, a connection per thread) and answered
with a fixed confirmation; a GET answers a small PDF (the document fetch). No framework, no
state machine, no idempotency: what this machine can do at all with these exchanges.

    python -m granian --interface wsgi ... bench._iso_floor:app   (env FLOOR_DATABASE_URL)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg
from lxml import etree

SCHEMA = etree.XMLSchema(
    etree.parse(
        str(Path(__file__).resolve().parent.parent / "lifeline/delivery/schemas/ISO-18626-v1_2.xsd")
    )
)
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CONFIRMATION = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n"
    b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626" '
    b'xmlns:ill="http://illtransactions.org/2013/iso18626" ill:version="1.2">'
    b"<requestConfirmation><confirmationHeader><timestamp>2026-01-01T00:00:00Z</timestamp>"
    b"<timestampReceived>2026-01-01T00:00:00Z</timestampReceived>"
    b"<messageStatus>OK</messageStatus></confirmationHeader></requestConfirmation>"
    b"</ISO18626Message>"
)
_local = threading.local()


def _db() -> psycopg.Connection[Any]:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
        _local.conn = conn
    return conn


def setup(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_message")
        conn.execute(
            "CREATE TABLE floor_message (id bigserial PRIMARY KEY, kind text NOT NULL,"
            " xml text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] == "GET":
        start_response("200 OK", [("Content-Type", "application/pdf")])
        return [PDF]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    root = etree.fromstring(body, PARSER)
    if not SCHEMA.validate(root):
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"invalid"]
    _db().execute(
        "INSERT INTO floor_message (kind, xml) VALUES (%s, %s)",
        (etree.QName(root[0]).localname, body.decode()),
    )
    start_response("200 OK", [("Content-Type", "application/xml")])
    return [CONFIRMATION]
