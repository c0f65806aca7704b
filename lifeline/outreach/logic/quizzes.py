"""The quiz engine: a random paper per patron, a deadline kept on the server, answers stored as
they come, exact integer scores, a leaderboard with ties broken by time taken.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.outreach.choices import QuestionKind
from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import Answer, Attempt, Question, Quiz

LETTERS = "ABCDEFGHIJ"


def normalise(question: Question, raw: str | list[str]) -> str:
    """The stored form of an answer: sorted letters for choices, T/F, trimmed text for fill-in."""
    return normalise_as(question.kind, len(question.options), raw)


def normalise_as(kind: str, options: int, raw: str | list[str]) -> str:
    """`normalise` from the question's kind and number of options alone (the thin answer path
    carries these in its signed paper token instead of reading the question)."""
    if kind == QuestionKind.FILL:
        text = raw if isinstance(raw, str) else " ".join(raw)
        return " ".join(text.split())[:500]
    values = [raw] if isinstance(raw, str) else list(raw)
    letters = sorted({v.strip().upper() for v in values if v and v.strip()})
    if kind == QuestionKind.TRUE_FALSE:
        return letters[0] if letters and letters[0] in ("T", "F") else ""
    allowed = set(LETTERS[:options])
    letters = [v for v in letters if v in allowed]
    if kind == QuestionKind.SINGLE:
        return letters[0] if len(letters) == 1 else ""
    return "".join(letters)


def is_correct(question: Question, value: str) -> bool:
    if not value:
        return False
    if question.kind == QuestionKind.FILL:
        accepted = {" ".join(a.split()).casefold() for a in question.answer.split("|")}
        return value.casefold() in accepted
    return value == question.answer


def start(quiz: Quiz, user: Any, *, now: dt.datetime | None = None) -> Attempt:
    """The patron's open attempt, or a new one with its own random paper."""
    now = now or timezone.now()
    if not may_take_part(user, quiz.library_id):
        raise PermissionDenied
    if not quiz.opens_at <= now < quiz.closes_at:
        raise ValidationError(_("This quiz is not open."))
    open_attempt = (
        Attempt.objects.filter(quiz=quiz, user=user, submitted_at__isnull=True, deadline__gt=now)
        .order_by("-number")
        .first()
    )
    if open_attempt is not None:
        return open_attempt
    used = Attempt.objects.filter(quiz=quiz, user=user).count()
    if used >= quiz.attempts:
        raise ValidationError(_("You have used all your attempts at this quiz."))
    ids = list(Question.objects.filter(bank=quiz.bank_id).values_list("pk", "points"))
    paper = random.SystemRandom().sample(ids, min(quiz.questions, len(ids)))
    deadline = min(now + dt.timedelta(minutes=quiz.minutes), quiz.closes_at)
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                quiz=quiz,
                user=user,
                number=used + 1,
                question_ids=[pk for pk, _p in paper],
                started_at=now,
                deadline=deadline,
                max_score=sum(p for _pk, p in paper),
            )
    except IntegrityError:
        # The same patron started twice at once (two devices): one attempt, not two.
        return Attempt.objects.get(quiz=quiz, user=user, number=used + 1)


def _own_open(attempt: Attempt, user: Any, now: dt.datetime) -> None:
    if attempt.user_id != user.pk:
        raise PermissionDenied
    if attempt.submitted_at is not None:
        raise ValidationError(_("This paper has been handed in."))
    if now >= attempt.deadline:
        raise ValidationError(_("Time is up: answers are no longer accepted."))


def save_answers(
    attempt: Attempt,
    user: Any,
    answers: dict[int, str | list[str]],
    *,
    now: dt.datetime | None = None,
) -> int:
    """Store answers as given (each call is final for the questions it names). Returns how many
    were stored; questions not on this paper are ignored."""
    now = now or timezone.now()
    _own_open(attempt, user, now)
    on_paper = set(attempt.question_ids)
    questions = Question.objects.in_bulk([q for q in answers if q in on_paper])
    rows = [
        Answer(attempt_id=attempt.pk, question=q, value=normalise(q, raw), answered_at=now)
        for qid, raw in answers.items()
        if (q := questions.get(qid)) is not None
    ]
    with transaction.atomic():
        # Under the attempt's lock, so an answer racing the hand-in is either in or refused.
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        _own_open(locked, user, now)
        if rows:
            # One INSERT ... ON CONFLICT DO UPDATE for the lot (PostgreSQL and SQLite): the
            # latest answer to a question replaces the earlier, with no read before the write.
            Answer.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["attempt", "question"],
                update_fields=["value", "answered_at"],
            )
    return len(rows)


def score_of(attempt: Attempt) -> int:
    questions = Question.objects.in_bulk(attempt.question_ids)
    total = 0
    for ans in Answer.objects.filter(attempt=attempt, answered_at__lt=attempt.deadline):
        question = questions.get(ans.question_id)
        if question is not None and is_correct(question, ans.value):
            total += question.points
    return total


def submit(attempt: Attempt, user: Any, *, now: dt.datetime | None = None) -> Attempt:
    """Hand the paper in and score it. After the deadline it is scored as it stood then."""
    now = now or timezone.now()
    if attempt.user_id != user.pk:
        raise PermissionDenied
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.submitted_at is None:
            locked.submitted_at = min(now, locked.deadline)
            locked.score = score_of(locked)
            locked.save(update_fields=["submitted_at", "score"])
    return locked


def close_expired(*, now: dt.datetime | None = None) -> int:
    """Score every paper whose time ran out without a hand-in (a periodic job)."""
    now = now or timezone.now()
    done = 0
    for attempt in Attempt.objects.filter(submitted_at__isnull=True, deadline__lte=now):
        submit(attempt, attempt.user, now=now)
        done += 1
    return done


def leaderboard(quiz: Quiz, limit: int = 50) -> list[Attempt]:
    """Each patron's best handed-in paper: higher score first, then less time, then earlier."""
    best: dict[int, Attempt] = {}
    rows = Attempt.objects.filter(quiz=quiz, submitted_at__isnull=False).select_related(
        "user__patron"
    )
    for a in rows:
        key = (-(a.score or 0), a.duration, a.submitted_at)
        held = best.get(a.user_id)
        if held is None or key < (-(held.score or 0), held.duration, held.submitted_at):
            best[a.user_id] = a
    ranked = sorted(best.values(), key=lambda a: (-(a.score or 0), a.duration, a.submitted_at))
    return ranked[:limit]


def paper(attempt: Attempt) -> list[tuple[Question, str]]:
    """The paper's questions in its own order, with the answer stored so far."""
    questions = Question.objects.in_bulk(attempt.question_ids)
    given = dict(Answer.objects.filter(attempt=attempt).values_list("question_id", "value"))
    return [(questions[q], given.get(q, "")) for q in attempt.question_ids if q in questions]
