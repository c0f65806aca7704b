"""Outreach app: storing quiz answers and registering for the last seats, in-process.

    .venv/bin/python -m bench outreach [--patrons=2000] [--answers=5]

On a fresh SQLite database under bench/tmp/outreach/. Each patron starts a paper and sends each
answer as its own call (as a phone would); the time per stored answer is set against a reference
in the same run (one indexed single-row UPDATE through the ORM), so the figure survives a noisy
machine. Every score is then checked against the answers sent. The issue's HTTP target is
`--http=1` (below).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, free_port, option, scratch_django


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


# --- over HTTP: `python -m bench outreach --http=1 [--patrons=N] [--answers=K] [--threads=T]` --
#
# The target: a quiz opened to 10,000 patrons at once, ≥ 1,000 answers/s on PostgreSQL
# with `lifeline serve` on this machine, p99 ≤ 200 ms, no answer lost, every score exact; and
# the last seat of an event under 200 concurrent registrations, exactly capacity admitted.
#
# The server is `lifeline serve --no-worker` on 127.0.0.1 (granian, the project's defaults); its
# database is LIFELINE_BENCH_OUTREACH_DATABASE_URL (default .../lifeline_w8_bench). Each patron
# has a signed-in session (made in the bench process, as a sign-in would leave it) and a paper
# started beforehand; T client threads, each on one keep-alive connection, send every answer as
# its own form POST (as a phone without JavaScript does) and time each request. Reference in
# the same run, same threads and connections: GET /healthz (a view that does no database work).
# Then each paper is handed in and its score compared with the answers sent; then 200 threads
# ask at once for the seats of a session of capacity 50.

HTTP_DB = os.environ.get(
    "LIFELINE_BENCH_OUTREACH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lifeline_w8_bench"
)
CSRF = "b" * 32  # an unmasked CSRF secret: the cookie and the form field carry the same value


def _http_setup(data_dir: str) -> None:
    import psycopg

    base, name = HTTP_DB.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    import secrets

    # The server refuses to start with DEBUG off and the public keys (a deploy check); the bench
    # process shares these, so the sessions it writes are the server's.
    os.environ.update(
        LIFELINE_SECRET_KEY=secrets.token_urlsafe(64),
        LIFELINE_FIELD_KEY=secrets.token_urlsafe(64),
        LIFELINE_LOG_USER_KEY=secrets.token_urlsafe(64),
        LIFELINE_DATABASE_URL=HTTP_DB,
        LIFELINE_DATA_DIR=data_dir,
        LIFELINE_TASK_BACKEND="immediate",
        LIFELINE_LOG_LEVEL="WARNING",
        LIFELINE_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _wait_port(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def _run_threads(
    port: int, jobs: list[list[tuple[str, str, bytes, str]]]
) -> tuple[list[float], int, float]:
    """Each job list on its own thread and keep-alive connection: (method, path, body, cookie).
    Returns the latencies (s), the failures (status ≥ 400 or an error) and the wall time."""
    import http.client

    latencies: list[list[float]] = [[] for _ in jobs]
    failed = [0] * len(jobs)
    gate = threading.Barrier(len(jobs))

    def work(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        gate.wait()
        for method, path, body, cookie in jobs[i]:
            headers = {"Cookie": cookie, "Host": "127.0.0.1"}
            if body:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    failed[i] += 1
            except (OSError, http.client.HTTPException):
                failed[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            latencies[i].append(time.perf_counter() - t0)
        conn.close()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    return [x for per in latencies for x in per], sum(failed), wall


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


def http_main(argv: list[str]) -> int:
    patrons = option(argv, "patrons", 2000)
    per = option(argv, "answers", 5)
    threads = option(argv, "threads", 16)
    data_dir = tempfile.mkdtemp(prefix="lifeline-bench-outreach-")
    _http_setup(data_dir)
    from importlib import import_module
    from urllib.parse import urlencode

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.utils import timezone

    from lifeline.core.models import Library, Patron
    from lifeline.outreach.choices import QuestionKind, RegStatus
    from lifeline.outreach.logic import quizzes
    from lifeline.outreach.models import (
        Answer,
        Attempt,
        Event,
        Question,
        QuestionBank,
        Quiz,
        Registration,
        Session,
    )  # fmt: skip

    library = Library.objects.create(code="bench", name="基准图书馆")
    bank = QuestionBank.objects.create(library=library, name="bench")
    Question.objects.bulk_create(
        [
            Question(bank=bank, kind=QuestionKind.SINGLE, text=f"第{i}题",
                     options=["甲", "乙", "丙"], answer="A", points=1 + i % 3)
            for i in range(per)
        ]
    )  # fmt: skip
    now = timezone.now()
    quiz = Quiz.objects.create(
        library=library, bank=bank, title="全校竞答", questions=per, minutes=60, attempts=1,
        opens_at=now - dt.timedelta(minutes=5), closes_at=now + dt.timedelta(hours=3),
    )  # fmt: skip
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"s{i:05d}") for i in range(patrons)])
    Patron.objects.bulk_create([Patron(user=u, library=library) for u in users])
    store = import_module(settings.SESSION_ENGINE).SessionStore
    cookies: dict[int, str] = {}
    for u in users:
        s = store()
        s[SESSION_KEY] = str(u.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = u.get_session_auth_hash()
        s.create()
        cookies[u.pk] = f"{settings.SESSION_COOKIE_NAME}={s.session_key}; csrftoken={CSRF}"
    attempts = [quizzes.start(quiz, u) for u in users]
    keys = {q.pk: q for q in Question.objects.filter(bank=bank)}

    def chosen(u: Any, qid: int) -> str:
        return "A" if (u.pk + qid) % 2 else "B"

    port = free_port()
    env = {**os.environ}
    server = subprocess.Popen(
        [sys.executable, "-m", "lifeline", "serve", "--no-worker", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=(Path(data_dir) / "server.log").open("w"), start_new_session=True,
    )  # fmt: skip
    try:
        _wait_port(port)
        warm = [[("GET", "/healthz", b"", "")] * 50 for _ in range(threads)]
        _run_threads(port, warm)
        # The reference: as many requests as answers, same threads, same connections.
        n_answers = patrons * per
        ref_jobs = [[("GET", "/healthz", b"", "")] * (n_answers // threads) for _ in range(threads)]
        ref_lat, ref_failed, ref_wall = _run_threads(port, ref_jobs)
        # Answers: patron i's answers on thread i % T, in the order of the paper.
        jobs: list[list[tuple[str, str, bytes, str]]] = [[] for _ in range(threads)]
        for i, (u, a) in enumerate(zip(users, attempts, strict=True)):
            for qid in a.question_ids:
                body = urlencode({"csrfmiddlewaretoken": CSRF, f"q{qid}": chosen(u, qid)})
                jobs[i % threads].append(
                    ("POST", f"/outreach/a/{a.pk}/", body.encode(), cookies[u.pk])
                )
        # Interleave: each thread serves its patrons round-robin, as many phones at once would.
        for j, mine in enumerate(jobs):
            by_patron: dict[str, list[tuple[str, str, bytes, str]]] = {}
            for job in mine:
                by_patron.setdefault(job[1], []).append(job)
            rounds = list(by_patron.values())
            jobs[j] = [r[k] for k in range(per) for r in rounds if k < len(r)]
        lat, failed, wall = _run_threads(port, jobs)
        load = os.getloadavg()
        stored = Answer.objects.filter(attempt__quiz=quiz).count()
        wrong = 0
        for u, a in zip(users, attempts, strict=True):
            done = quizzes.submit(Attempt.objects.get(pk=a.pk), u)
            expected = sum(keys[q].points for q in a.question_ids if chosen(u, q) == "A")
            wrong += done.score != expected
        # The last seats: 200 patrons at once for a session of 50.
        event = Event.objects.create(library=library, kind="reading", title="讲座")
        tomorrow = timezone.now() + dt.timedelta(days=1)
        session = Session.objects.create(
            event=event, starts_at=tomorrow, ends_at=tomorrow + dt.timedelta(hours=1), capacity=50
        )
        crowd = users[:200]
        body = urlencode({"csrfmiddlewaretoken": CSRF}).encode()
        reg_jobs = [
            [("POST", f"/outreach/s/{session.pk}/register/", body, cookies[u.pk])] for u in crowd
        ]
        reg_lat, reg_failed, _reg_wall = _run_threads(port, reg_jobs)
        session.refresh_from_db()
        admitted = Registration.objects.filter(session=session, status=RegStatus.REGISTERED).count()
        waiting = Registration.objects.filter(session=session, status=RegStatus.WAITLISTED).count()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    rate, ref_rate = len(lat) / wall, len(ref_lat) / ref_wall
    print(f"machine: {os.cpu_count()} cores; load average after the answers: {load}")
    print(f"reference GET /healthz: {ref_rate:.0f}/s, p50 {_pct(ref_lat, 50):.1f} ms, "
          f"p99 {_pct(ref_lat, 99):.1f} ms, {ref_failed} failed")  # fmt: skip
    print(f"answers over HTTP ({patrons} patrons × {per}, {threads} connections): "
          f"{rate:.0f}/s, p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms, "
          f"{failed} failed; {rate / ref_rate:.2f}× the reference rate")  # fmt: skip
    print(f"integrity: {stored} of {n_answers} answers stored, {wrong} scores wrong")
    print(f"last seats: 200 at once for 50 → {admitted} admitted (counter {session.registered}), "
          f"{waiting} waiting, {reg_failed} failed; p99 {_pct(reg_lat, 99):.0f} ms")  # fmt: skip
    print("target: ≥ 1,000 answers/s, p99 ≤ 200 ms")
    ok = stored == n_answers and not wrong and not failed and admitted == 50 == session.registered
    return 0 if ok else 1
