"""The thin answer path (htmx/JSON, one statement per answer): stored as given, scores exact,
one query, and the hostile cases: another patron's paper, a forged or edited token, a late
answer, an answer after the hand-in, the token replayed from another device or anonymously."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from lifeline.conftest import client_for
from lifeline.outreach.choices import QuestionKind
from lifeline.outreach.logic import answering, quizzes
from lifeline.outreach.models import Answer, Attempt, Question, Quiz
from lifeline.outreach.tests.conftest import right_answers

URL = "/outreach/a/answer/"


def _open_paper(client: Client, quiz: Quiz) -> tuple[Attempt, str]:
    """Start the quiz as the patron would and read the token off the attempt page."""
    response = client.post(f"/outreach/q/{quiz.pk}/start/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    token = page.context["token"]
    assert f'"t": "{token}"' in page.content.decode()  # htmx sends it with each answer
    return page.context["attempt"], token


def _send(client: Client, token: str, qid: Any, value: Any, *, htmx: bool = False) -> Any:
    if htmx:  # as htmx sends it: the question's own form field, named as the full form names it
        fields: dict[str, Any] = {"t": token, "q": str(qid)}
        if value not in ("", []):
            fields[f"q{qid}"] = value
        return client.post(URL, fields, headers={"HX-Request": "true"})
    body = json.dumps({"t": token, "q": qid, "v": value})
    return client.post(URL, body, content_type="application/json")


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_answers_stored_as_given_and_scored_exactly(quiz: Quiz, patron_a: Any) -> None:
    client = client_for(patron_a)
    attempt, token = _open_paper(client, quiz)
    questions = Question.objects.in_bulk(attempt.question_ids)
    right = right_answers(list(questions.values()))
    for i, (qid, value) in enumerate(right.items()):
        response = _send(client, token, qid, value, htmx=bool(i % 2))
        assert response.status_code == 200
        if i % 2:
            assert "error" not in response.content.decode()
        else:
            assert response.json()["saved"] is True
    stored = dict(Answer.objects.filter(attempt=attempt).values_list("question_id", "value"))
    for qid, q in questions.items():
        expected = " ".join(q.answer.split("|")[0].split()) if q.kind == "fill" else q.answer
        assert stored[qid] == expected
    # A later answer to the same question replaces the earlier (as given, last one wins).
    multiple = next(q for q in questions.values() if q.kind == QuestionKind.MULTIPLE)
    assert _send(client, token, multiple.pk, ["c", "A", "Z"]).json()["value"] == "AC"
    assert _send(client, token, multiple.pk, list(multiple.answer), htmx=True).status_code == 200
    assert Answer.objects.filter(attempt=attempt).count() == len(questions)
    # The no-JavaScript hand-in scores what the thin path stored.
    assert client.post(f"/outreach/a/{attempt.pk}/", {"finish": "1"}).status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == attempt.max_score == 10


def test_one_query_per_answer(quiz: Quiz, patron_a: Any, django_assert_num_queries: Any) -> None:
    client = client_for(patron_a)
    attempt, token = _open_paper(client, quiz)
    qid = attempt.question_ids[0]
    # No session, user, attempt or question read: the upsert with its checks is the only query.
    with django_assert_num_queries(1):
        assert _send(client, token, qid, "A").status_code == 200
    with django_assert_num_queries(1):
        assert _send(client, token, qid, "T", htmx=True).status_code == 200
    # A refusal reads the attempt once more, to say why.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at)
    with django_assert_num_queries(2):
        assert _send(client, token, qid, "A").status_code == 409


def test_late_and_handed_in_refused(quiz: Quiz, patron_a: Any) -> None:
    client = _english(client_for(patron_a))
    attempt, token = _open_paper(client, quiz)
    qid = attempt.question_ids[0]
    paper = answering.read(token, _session_key(client))
    # The server's clock decides: at the deadline nothing is taken, and nothing is written.
    with translation.override("en"), pytest.raises(ValidationError, match="Time is up"):
        answering.record(paper, qid, "A", now=attempt.deadline)
    answering.record(paper, qid, "A", now=attempt.deadline - dt.timedelta(seconds=1))
    assert Answer.objects.get(attempt=attempt).value in ("A", "")
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at)
    response = _send(client, token, qid, "B")
    assert response.status_code == 409 and "Time is up" in response.json()["error"]
    refused = _send(client, token, qid, "B", htmx=True)
    assert refused.status_code == 200 and 'class="error"' in refused.content.decode()
    assert Answer.objects.filter(attempt=attempt).exclude(value="B").count() == 1
    # Handed in: refused too, whatever the time.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.deadline)
    quizzes.submit(Attempt.objects.get(pk=attempt.pk), patron_a)
    response = _send(client, token, qid, "B")
    assert response.status_code == 409 and "handed in" in response.json()["error"]


def test_replayed_from_another_device_or_anonymously(quiz: Quiz, patron_a: Any) -> None:
    client = client_for(patron_a)
    attempt, token = _open_paper(client, quiz)
    qid = attempt.question_ids[0]
    # The same patron signed in on a second phone: another session cookie, so not this token.
    second = client_for(patron_a)
    assert _session_key(second) != _session_key(client)
    assert _send(second, token, qid, "A").status_code == 403
    assert _send(Client(), token, qid, "A").status_code == 403
    assert not Answer.objects.filter(attempt=attempt).exists()
    # The second device opens the paper itself and gets its own token: that one is taken.
    page = second.get(f"/outreach/a/{attempt.pk}/")
    assert _send(second, page.context["token"], qid, "A").status_code == 200


def test_another_patrons_paper_and_forged_tokens(quiz: Quiz, patron_a: Any, patron_a2: Any) -> None:
    client_a, client_b = client_for(patron_a), client_for(patron_a2)
    attempt_a, token_a = _open_paper(client_a, quiz)
    attempt_b, _token_b = _open_paper(client_b, quiz)
    qid = attempt_a.question_ids[0]
    # Patron B with A's token (B's own cookie): refused before any database work.
    assert _send(client_b, token_a, qid, "A").status_code == 403
    # An edited token: the payload changed to B's attempt, the signature kept.
    payload = signing.loads(token_a, salt=answering.SALT)
    _head, _sep, signature = token_a.rpartition(":")
    forged = signing.dumps({**payload, "a": attempt_b.pk}, salt=answering.SALT)
    edited = forged.rpartition(":")[0] + ":" + signature
    assert _send(client_a, edited, qid, "A").status_code == 403
    # Signed with another key (not ours), or with another salt (another of our tokens).
    other = signing.dumps(payload, salt=answering.SALT, key="not-the-site-key" * 4)
    assert _send(client_a, other, qid, "A").status_code == 403
    checkin = signing.dumps(payload, salt="lifeline.outreach.checkin")
    assert _send(client_a, checkin, qid, "A").status_code == 403
    # Even a correctly signed token naming B's attempt for user A writes nothing: the statement
    # checks the attempt's owner itself.
    paper = answering.read(token_a, _session_key(client_a))
    crossed = answering.Paper(attempt_b.pk, patron_a.pk, paper.questions)
    with pytest.raises(ValidationError):
        answering.record(crossed, qid, "A", now=attempt_a.started_at)
    assert not Answer.objects.exists()
    # A question not on this paper, and malformed input: refused, never a 500.
    stranger = Question.objects.create(bank=quiz.bank, kind="single", text="?", answer="A")
    assert _send(client_a, token_a, stranger.pk, "A").status_code == 403
    for body in ("", "null", "[]", '{"t": 1, "q": "x"}', '{"t": "' + "a" * 9000 + '", "q": 1}'):
        bad = client_a.post(URL, body, content_type="application/json")
        assert bad.status_code == 403
    assert client_a.post(URL, {"t": token_a, "q": "²"}).status_code == 403
    assert client_a.get(URL).status_code == 405
    assert not Answer.objects.exists()
