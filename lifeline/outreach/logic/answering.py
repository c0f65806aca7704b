"""The thin answer path: what the quiz page's htmx sends for each answer, one SQL statement each.

When 10,000 patrons answer at once, the full form path costs a session read, a user read, the
attempt, its questions, a locked re-read and the upsert (7 queries and a page render) per answer.
Here the attempt page hands the patron a *paper token*, signed with the site's secret, that says:
this attempt, this user, these questions (with each one's kind and number of options, so the
answer is normalised exactly as the form path does without reading the question) and this device
(a keyed digest of the session cookie the page was served to). An answer then costs one
statement that checks, in SQL and under a share lock on the attempt, that the paper is the user's,
not handed in and before its deadline, and stores the answer as given (insert or replace).

What is refused, and where:
- a token not signed by us, or edited (another attempt, user or question): `BadToken` (403);
- a token sent with another session cookie (copied to another device or browser): `BadToken`;
- a question not on the paper: `BadToken`;
- after the deadline, after the hand-in, or another patron's attempt: no row is written and
  `ValidationError` (409) says why (one more query, on the refusal path only).

The token is a bearer of the session cookie it is bound to: whoever holds both may answer until
the deadline, exactly as whoever holds the cookie may through the form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from lifeline.outreach.choices import QuestionKind
from lifeline.outreach.logic.quizzes import normalise_as
from lifeline.outreach.models import Attempt, Question

SALT = "lifeline.outreach.paper"
KIND_CODES = {
    QuestionKind.SINGLE: "s",
    QuestionKind.MULTIPLE: "m",
    QuestionKind.TRUE_FALSE: "t",
    QuestionKind.FILL: "f",
}
CODE_KINDS = {code: kind for kind, code in KIND_CODES.items()}
MAX_TOKEN = 4096  # a paper of 100 questions fits; anything longer is not ours


class BadToken(Exception):
    """The token is not one we issued for this paper, question and device."""


@dataclass(frozen=True)
class Paper:
    attempt: int
    user: int
    questions: dict[int, tuple[str, int]]  # question id -> (kind, number of options)


def device_of(session_key: str) -> str:
    """A keyed digest of the session cookie: binds the token to the browser it was served to
    without reading the session (the cookie is compared, never looked up)."""
    return salted_hmac(SALT + ".device", session_key or "-", algorithm="sha256").hexdigest()[:32]


def issue(attempt: Attempt, questions: list[Question], session_key: str) -> str:
    """The token for the attempt page (served to the attempt's own, signed-in user)."""
    paper = [[q.pk, KIND_CODES[QuestionKind(q.kind)], len(q.options)] for q in questions]
    payload = {"a": attempt.pk, "u": attempt.user_id, "p": paper, "d": device_of(session_key)}
    return signing.dumps(payload, salt=SALT)


def read(token: str, session_key: str) -> Paper:
    """The paper a token names, if we signed it and it comes from the device it was given to."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise BadToken
    try:
        payload = signing.loads(token, salt=SALT)
        device = str(payload["d"])
        paper = Paper(
            attempt=int(payload["a"]),
            user=int(payload["u"]),
            questions={int(q): (CODE_KINDS[k], int(n)) for q, k, n in payload["p"]},
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadToken from None
    if not constant_time_compare(device, device_of(session_key)):
        raise BadToken
    return paper


# One statement: the attempt row is read under FOR SHARE, so an answer racing the hand-in (which
# takes FOR UPDATE) either lands before the score is counted or sees the hand-in and writes
# nothing. SQLite runs one writer at a time, so the same statement there needs no lock clause.
_OPEN = (
    "SELECT id FROM outreach_attempt WHERE id = %s AND user_id = %s"
    " AND submitted_at IS NULL AND deadline > %s"
)
_UPSERT = (
    " INSERT INTO outreach_answer (attempt_id, question_id, value, answered_at)"
    " SELECT id, %s, %s, %s FROM open_attempt"
    " ON CONFLICT (attempt_id, question_id)"
    " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at"
    " RETURNING id"
)
SQL = {
    "postgresql": "WITH open_attempt AS (" + _OPEN + " FOR SHARE)" + _UPSERT,
    # SQLite needs the WHERE of an INSERT ... SELECT ... ON CONFLICT to read it unambiguously.
    "sqlite": "WITH open_attempt AS ("
    + _OPEN
    + ")"
    + _UPSERT.replace(" ON CONFLICT", " WHERE true ON CONFLICT"),
}


def record(paper: Paper, question_id: int, raw: str | list[str], *, now: dt.datetime) -> str:
    """Store one answer as given (replacing an earlier one to the same question); returns the
    stored value. Refuses a question not on the paper (`BadToken`) and a paper that is late,
    handed in or not the token's user's (`ValidationError`)."""
    shape = paper.questions.get(question_id)
    if shape is None:
        raise BadToken
    value = normalise_as(shape[0], shape[1], raw)
    at = connection.ops.adapt_datetimefield_value(now)  # SQLite keeps naive UTC text
    params: list[Any] = [paper.attempt, paper.user, at, question_id, value, at]
    try:
        with connection.cursor() as cursor:
            cursor.execute(SQL[connection.vendor], params)
            stored = cursor.fetchone()
    except IntegrityError:  # the question was deleted from the bank during the quiz
        raise ValidationError(_("This question is no longer part of the quiz.")) from None
    if stored is None:
        raise ValidationError(why_refused(paper, now))
    return value


def why_refused(paper: Paper, now: dt.datetime) -> str:
    row = (
        Attempt.objects.filter(pk=paper.attempt, user_id=paper.user)
        .values_list("submitted_at", "deadline")
        .first()
    )
    if row is None:
        return _("Not possible.")
    submitted_at, deadline = row
    if submitted_at is not None:
        return _("This paper has been handed in.")
    if now >= deadline:
        return _("Time is up: answers are no longer accepted.")
    return _("Not possible.")
