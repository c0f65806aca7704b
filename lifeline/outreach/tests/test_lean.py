"""The htmx quiz answer below the middleware (outreach/lean.py): the same answer, refusals and
headers as the full stack, one query and no health check, and everything it does not take
handed to Django unchanged (a bad Host, a JSON body, a redirect to https, a dead connection)."""

from __future__ import annotations

import io
import sys
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import Client, override_settings

from lifeline.conftest import client_for
from lifeline.outreach import lean
from lifeline.outreach.choices import QuestionKind
from lifeline.outreach.models import Answer, Attempt, Question, Quiz
from lifeline.outreach.tests.test_answering import _open_paper, _session_key

VARYING = {"Content-Length"}  # the fragment carries the time


def _post(
    cookie: str, fields: dict[str, Any], *, query: str = "", host: str = "testserver", **extra: str
) -> tuple[str, dict[str, str], str]:
    body = urlencode(fields, doseq=True).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": lean.PATH,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": cookie,
        "HTTP_HX_REQUEST": "true",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    # As Django's test client does: the test's own transaction must not be closed by the
    # start and end of a request (close_old_connections sees a connection inside atomic()).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        # Built per request: Django's middleware reads its settings when the handler is made.
        out = lean.wrap(WSGIHandler())(environ, start_response)
        text = b"".join(out).decode()
        if hasattr(out, "close"):
            out.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], text


def _cookie(client: Client, lang: str = "en") -> str:
    session = f"{settings.SESSION_COOKIE_NAME}={_session_key(client)}"
    return f"{session}; {settings.LANGUAGE_COOKIE_NAME}={lang}"


def _fields(token: str, qid: int, value: str) -> dict[str, Any]:
    return {"t": token, "q": str(qid), f"q{qid}": value}


def test_lean_answer_stored_with_the_full_stacks_headers(
    quiz: Quiz, patron_a: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(patron_a)
    attempt, token = _open_paper(client, quiz)
    # A single-choice question of the paper (drawn at random): "A" and "B" are stored as sent.
    qid = Question.objects.filter(pk__in=attempt.question_ids, kind=QuestionKind.SINGLE)[0].pk
    with django_assert_num_queries(1):  # the upsert only: no session, user or health check
        status, headers, text = _post(_cookie(client), _fields(token, qid, "A"))
    assert status == "200 OK" and text.startswith("Saved at")
    assert Answer.objects.get(attempt=attempt, question_id=qid).value == "A"
    # A query string sends the same request through Django's whole stack: same answer, headers.
    full_status, full_headers, full_text = _post(
        _cookie(client), _fields(token, qid, "B"), query="x=1"
    )
    assert full_status == status and full_text.startswith("Saved at")
    assert Answer.objects.get(attempt=attempt, question_id=qid).value == "B"
    assert {k: v for k, v in headers.items() if k not in VARYING} == {
        k: v for k, v in full_headers.items() if k not in VARYING
    }
    # In Chinese by default, as every page.
    _status, zh_headers, zh_text = _post(_cookie(client, "xx"), _fields(token, qid, "A"))
    assert zh_text.startswith("已于") and zh_headers["Content-Language"] == "zh-hans"


def test_lean_refusals(quiz: Quiz, patron_a: Any, patron_a2: Any) -> None:
    client, other = client_for(patron_a), client_for(patron_a2)
    attempt, token = _open_paper(client, quiz)
    qid = attempt.question_ids[0]
    refused = "cannot be taken from here"
    # Another device (a second session of the same patron), another patron, no cookie at all.
    assert refused in _post(_cookie(client_for(patron_a)), _fields(token, qid, "A"))[2]
    assert refused in _post(_cookie(other), _fields(token, qid, "A"))[2]
    assert refused in _post(f"{settings.LANGUAGE_COOKIE_NAME}=en", _fields(token, qid, "A"))[2]
    # An edited token, a question not on the paper, no question.
    assert refused in _post(_cookie(client), _fields(token[:-2] + "xx", qid, "A"))[2]
    assert refused in _post(_cookie(client), _fields(token, qid + 10_000, "A"))[2]
    assert refused in _post(_cookie(client), {"t": token})[2]
    assert not Answer.objects.exists()
    # Late: the server's clock decides.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at)
    assert "Time is up" in _post(_cookie(client), _fields(token, qid, "A"))[2]
    assert not Answer.objects.exists()


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_what_it_does_not_take_goes_to_django(quiz: Quiz, patron_a: Any) -> None:
    client = client_for(patron_a)
    attempt, token = _open_paper(client, quiz)
    qid = attempt.question_ids[0]
    assert _post(_cookie(client), _fields(token, qid, "A"), host="evil.example")[0].startswith(
        "400"
    )
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert _post(_cookie(client), _fields(token, qid, "A"))[0].startswith("301")
    assert not Answer.objects.exists()
    # Too many fields: Django's limit answers it.
    many = {f"x{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert _post(_cookie(client), {**_fields(token, qid, "A"), **many})[0].startswith("400")
    assert not Answer.objects.exists()
    # Behind a proxy that says https: taken here, with HSTS as the full stack would add it.
    proxy = ("HTTP_X_FORWARDED_PROTO", "https")
    with override_settings(
        SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=60, SECURE_PROXY_SSL_HEADER=proxy
    ):
        status, headers, _text = _post(
            _cookie(client), _fields(token, qid, "A"), HTTP_X_FORWARDED_PROTO="https"
        )
    assert status == "200 OK" and headers["Strict-Transport-Security"] == "max-age=60"
    assert Answer.objects.filter(attempt=attempt).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_dead_connection_is_replaced_not_failed(quiz: Quiz, patron_a: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a server that drops its connections: PostgreSQL")
    client = client_for(patron_a)
    attempt, token = _open_paper(client, quiz)
    qids = attempt.question_ids
    assert _post(_cookie(client), _fields(token, qids[0], "A"))[0] == "200 OK"
    # The server drops this thread's kept connection (as a restart does) between two answers.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection._nodb_cursor() as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    status, _headers, text = _post(_cookie(client), _fields(token, qids[1], "B"))
    assert status == "200 OK" and text.startswith("Saved at")
    # Both stored (each as its question's kind normalises it), the second on a new connection.
    answered = Answer.objects.filter(attempt=attempt).values_list("question_id", flat=True)
    assert sorted(answered) == sorted(qids[:2])
