"""Outreach app: storing quiz answers and registering for the last seats, in-process.

    .venv/bin/python -m bench outreach [--patrons=2000] [--answers=5]

On a fresh SQLite database under bench/tmp/outreach/. Each patron starts a paper and sends each
answer as its own call (as a phone would); the time per stored answer is set against a reference
in the same run (one indexed single-row UPDATE through the ORM), so the figure survives a noisy
machine. Every score is then checked against the answers sent. The issue's HTTP target is
`--http=1` (bench/_outreach_http.py).
"""

from __future__ import annotations

import datetime as dt
import time

from bench._common import option, scratch_django
from bench._outreach_http import CSRF, _pct, _run_threads, _wait_port, http_main

__all__ = ["CSRF", "_pct", "_run_threads", "_wait_port", "http_main", "main"]


def main(argv: list[str]) -> int:
    if option(argv, "http", 0):
        return http_main(argv)
    patrons = option(argv, "patrons", 2000)
    per = option(argv, "answers", 5)
    scratch_django("outreach")
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from lifeline.core.models import Library, Patron
    from lifeline.outreach.choices import QuestionKind
    from lifeline.outreach.logic import events, quizzes
    from lifeline.outreach.models import Event, Question, QuestionBank, Quiz, Session

    library = Library.objects.create(code="bench", name="基准图书馆")
    bank = QuestionBank.objects.create(library=library, name="bench")
    Question.objects.bulk_create(
        [
            Question(
                bank=bank, kind=QuestionKind.SINGLE, text=f"q{i}", options=["a", "b"], answer="A"
            )
            for i in range(per)
        ]
    )
    now = timezone.now()
    quiz = Quiz.objects.create(
        library=library, bank=bank, title="bench", questions=per, minutes=30, attempts=1,
        opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(hours=2),
    )  # fmt: skip
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"p{i}") for i in range(patrons)]
    )
    Patron.objects.bulk_create([Patron(user=u, library=library) for u in users])

    start = time.perf_counter()
    for u in users:
        Library.objects.filter(pk=library.pk).update(phone=u.username)
    reference_ms = (time.perf_counter() - start) / patrons * 1000

    attempts = [quizzes.start(quiz, u) for u in users]
    start = time.perf_counter()
    for u, a in zip(users, attempts, strict=True):
        for i, qid in enumerate(a.question_ids):
            quizzes.save_answers(a, u, {qid: "A" if (u.pk + i) % 2 else "B"})
    answers = patrons * per
    answer_ms = (time.perf_counter() - start) / answers * 1000
    wrong = 0
    for u, a in zip(users, attempts, strict=True):
        done = quizzes.submit(a, u)
        expected = sum(1 for i in range(per) if (u.pk + i) % 2)
        wrong += done.score != expected
    event = Event.objects.create(library=library, kind="reading", title="bench")
    tomorrow = now + dt.timedelta(days=1)
    session = Session.objects.create(
        event=event,
        starts_at=tomorrow,
        ends_at=tomorrow + dt.timedelta(hours=1),
        capacity=patrons // 2,
    )
    start = time.perf_counter()
    for u in users:
        events.register(session, u)
    register_ms = (time.perf_counter() - start) / patrons * 1000
    session.refresh_from_db()
    print(f"reference (one-row UPDATE): {reference_ms:.3f} ms")
    print(
        f"answer stored: {answer_ms:.3f} ms ({answer_ms / reference_ms:.1f}× reference), "
        f"{1000 / answer_ms:.0f} answers/s on one core; {answers} answers, {wrong} scores wrong"
    )
    print(
        f"registration: {register_ms:.3f} ms ({register_ms / reference_ms:.1f}× reference); "
        f"{session.registered} admitted of capacity {session.capacity}"
    )
    return 1 if wrong or session.registered != session.capacity else 0
