"""Outreach over HTTP (issue 14): `python -m bench outreach --http=1 [--patrons=N] [--answers=K]
[--connections=C] [--form=F] [--threads=T]` (this module's name starts with "_" so the runner
does not take it for a topic).

The target: a quiz opened to 10,000 patrons at once, ≥ 1,000 answers/s on PostgreSQL with
`lifeline serve` on this machine, p99 ≤ 200 ms, no answer lost, every score exact; and the last
seat of an event under 200 concurrent registrations, exactly capacity admitted.

The server is `lifeline serve --no-worker` (bench/_server.py: granian, the project's defaults,
`--threads=T` per worker if given) on a fresh PostgreSQL database,
LIFELINE_BENCH_OUTREACH_DATABASE_URL. Each patron has a signed-in session (rows written as a
sign-in leaves them) and a paper drawn as `quizzes.start` draws it, and holds the paper token the
attempt page would give them. wrk (C connections, 2 threads, a Lua script) sends every answer
once, as the quiz page's htmx does: a form POST of the token, the question and its value to
/outreach/a/answer/, with the patron's session cookie; patrons are interleaved, each thread
stops when its share is answered. In the same run, same wrk settings: GET /healthz (no database
work) as the reference, and F answers through the no-JavaScript form path (a POST of the whole
form to the attempt page, redirect and flash message; the same values, so nothing changes).
CPU seconds of the server's processes, PostgreSQL's and wrk's are read from /proc around the
answers: CPU per answer, where it goes.

Then every stored answer is compared with the one sent, each paper is handed in through
`quizzes.submit` and its score compared with the answers sent; then 200 threads ask at once for
the seats of a session of capacity 50.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench._common import option
from bench._server import (
    LifelineServer,
    WrkResult,
    bench_env,
    fresh_postgres,
    parse_wrk,
    process_cpu,
    wrk,
)

HTTP_DB = os.environ.get(
    "LIFELINE_BENCH_OUTREACH_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/lifeline_outreach_bench",
)
CSRF = "b" * 32  # an unmasked CSRF secret: the cookie and the form field carry the same value

# Each wrk thread takes every T-th line of the request file (T = threads) and stops once it has
# had as many answers as lines; request() wraps round, so the few requests still in flight at the
# stop repeat an answer already given (the same value: nothing changes). wrk itself runs for its
# whole -d, whatever its threads do: each thread leaves a mark file when its share is done, and
# the bench then stops wrk with SIGINT, on which it prints its figures (timed to the stop).
LUA = """
local reqs, n, done, quota = {}, 0, 0, 0
function setup(thread)
  thread:set("tid", __tid or 0)
  __tid = (__tid or 0) + 1
end
function init(args)
  local threads, path, i = tonumber(args[1]), args[2], 0
  args_mark = args[4]
  for line in io.lines(path) do
    if i % threads == tid then
      local url, cookie, body = line:match("^([^\\t]*)\\t([^\\t]*)\\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", url, {
        ["Cookie"] = cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["HX-Request"] = args[3] == "htmx" and "true" or nil,
      }, body)
    end
    i = i + 1
  end
  quota = #reqs
end
function request()
  n = n % quota + 1
  return reqs[n]
end
function response(status, headers, body)
  done = done + 1
  if done == quota then
    local mark = io.open(args_mark .. tid, "w")
    mark:close()
    wrk.thread:stop()
  end
end
"""


def _say(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _postgres_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the bench's database (by pid), read from
    /proc: only this bench's connections, not other databases' work on a shared server. A
    backend that starts later counts from 0."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return {pid: process_cpu([pid]) for (pid,) in rows}


def _postgres_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wrk_lines(base: str, lines: list[str], connections: int, mode: str) -> WrkResult:
    folder = Path(tempfile.mkdtemp(prefix="lifeline-wrk-"))
    try:
        (folder / "answers.lua").write_text(LUA, encoding="utf-8")
        (folder / "requests.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        mark = folder / "done-"
        proc = subprocess.Popen(
            ["wrk", "-t2", f"-c{connections}", "-d600s", "--latency", "--timeout", "10s",
             "-s", str(folder / "answers.lua"), base,
             "--", "2", str(folder / "requests.tsv"), mode, str(mark)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            if all(Path(f"{mark}{tid}").exists() for tid in range(2)):
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return parse_wrk(out)


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


def _wait_port(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def _patrons(library: Any, quiz: Any, patrons: int) -> list[tuple[Any, Any, str, str]]:
    """(user, attempt, session cookie value, paper token) for each patron, written in bulk."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session as DjangoSession
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from lifeline.core.models import Patron
    from lifeline.outreach.logic import answering
    from lifeline.outreach.models import Attempt, Question

    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"s{i:05d}") for i in range(patrons)])
    Patron.objects.bulk_create([Patron(user=u, library=library) for u in users])
    expires = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows, keys = [], []
    for u in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(u.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: u.get_session_auth_hash(),
        }
        encoded = SessionStore().encode(data)
        rows.append(DjangoSession(session_key=key, session_data=encoded, expire_date=expires))
        keys.append(key)
    DjangoSession.objects.bulk_create(rows, batch_size=1000)
    # Papers drawn as `quizzes.start` draws them (a random sample of the bank), written in bulk:
    # 10,000 starts one by one took minutes of the bench's time under the lock.
    questions = Question.objects.in_bulk()
    draw = random.Random(14)
    now = timezone.now()
    attempts = []
    for u in users:
        paper = draw.sample(sorted(questions), min(quiz.questions, len(questions)))
        attempts.append(
            Attempt(
                quiz=quiz, user=u, number=1, question_ids=paper, started_at=now,
                deadline=min(now + dt.timedelta(minutes=quiz.minutes), quiz.closes_at),
                max_score=sum(questions[q].points for q in paper),
            )
        )  # fmt: skip
    attempts = Attempt.objects.bulk_create(attempts, batch_size=1000)
    return [
        (u, a, key, answering.issue(a, [questions[q] for q in a.question_ids], key))
        for u, a, key in zip(users, attempts, keys, strict=True)
    ]


def http_main(argv: list[str]) -> int:
    patrons = option(argv, "patrons", 2000)
    per = option(argv, "answers", 5)
    connections = option(argv, "connections", 64)
    form_answers = option(argv, "form", 3000)
    threads = option(argv, "threads", 0)
    data_dir = tempfile.mkdtemp(prefix="lifeline-bench-outreach-")
    fresh_postgres(HTTP_DB)
    env = bench_env(HTTP_DB, data_dir)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from lifeline.core.models import Library
    from lifeline.outreach.choices import QuestionKind, RegStatus
    from lifeline.outreach.logic import quizzes
    from lifeline.outreach.models import (
        Answer,
        Event,
        Question,
        QuestionBank,
        Quiz,
        Registration,
        Session,
    )

    call_command("migrate", verbosity=0)
    t_setup = time.perf_counter()
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
    people = _patrons(library, quiz, patrons)
    _say("patrons ready")
    keys = {q.pk: q for q in Question.objects.filter(bank=bank)}
    setup_s = time.perf_counter() - t_setup

    def chosen(u: Any, qid: int) -> str:
        return "A" if (u.pk + qid) % 2 else "B"

    cookie_name = settings.SESSION_COOKIE_NAME
    # Patrons interleaved: everyone's first answer, then everyone's second, ... as a crowd would.
    thin: list[str] = []
    form: list[str] = []
    for k in range(per):
        for u, a, key, token in people:
            qid = a.question_ids[k]
            cookie = f"{cookie_name}={key}; csrftoken={CSRF}"
            thin.append(f"/outreach/a/answer/\t{cookie}\t" + urlencode(
                {"t": token, "q": qid, f"q{qid}": chosen(u, qid)}))  # fmt: skip
            form.append(f"/outreach/a/{a.pk}/\t{cookie}\t" + urlencode(
                {"csrfmiddlewaretoken": CSRF, f"q{qid}": chosen(u, qid), "save": "1"}))  # fmt: skip
    serve_args = ("--threads", str(threads)) if threads else ()
    log = Path(data_dir) / "server.log"
    with LifelineServer(env, args=serve_args, log=log) as server:
        port = server.port
        wrk(f"{server.base}/healthz", 3, connections)  # warm every worker and connection
        ref = wrk(f"{server.base}/healthz", 10, connections)
        _say("reference done")
        load_ref = os.getloadavg()
        pids = server.pids()
        cpu0, pg0, wrk0, t0 = (
            process_cpu(pids),
            _postgres_cpu(HTTP_DB),
            _children_cpu(),
            time.time(),
        )
        answers = _wrk_lines(server.base, thin, connections, "htmx")
        _say("htmx answers done")
        wall = time.time() - t0
        cpu1, pg1, wrk1 = process_cpu(pids), _postgres_cpu(HTTP_DB), _children_cpu()
        pg_s = _postgres_delta(pg0, pg1)
        load_answers = os.getloadavg()
        formed = _wrk_lines(server.base, form[:form_answers], connections, "form")
        _say("form answers done")
        # The last seats: 200 patrons at once for a session of 50.
        event = Event.objects.create(library=library, kind="reading", title="讲座")
        tomorrow = timezone.now() + dt.timedelta(days=1)
        session = Session.objects.create(
            event=event, starts_at=tomorrow, ends_at=tomorrow + dt.timedelta(hours=1), capacity=50
        )
        body = urlencode({"csrfmiddlewaretoken": CSRF}).encode()
        reg_jobs = [
            [("POST", f"/outreach/s/{session.pk}/register/", body,
              f"{cookie_name}={key}; csrftoken={CSRF}")]
            for _u, _a, key, _t in people[:200]
        ]  # fmt: skip
        reg_lat, reg_failed, _reg_wall = _run_threads(port, reg_jobs)
        _say("registrations done")
    # Integrity: every answer stored as sent, every score exact through the app's own hand-in.
    n_answers = patrons * per
    stored = dict(
        ((a, q), v)
        for a, q, v in Answer.objects.filter(attempt__quiz=quiz).values_list(
            "attempt_id", "question_id", "value"
        )
    )
    lost = sum(
        stored.get((a.pk, q)) != chosen(u, q) for u, a, _k, _t in people for q in a.question_ids
    )
    wrong = 0
    for u, a, _k, _t in people:
        done = quizzes.submit(a, u)  # it re-reads the attempt under its lock
        expected = sum(keys[q].points for q in a.question_ids if chosen(u, q) == "A")
        wrong += done.score != expected
    session.refresh_from_db()
    admitted = Registration.objects.filter(session=session, status=RegStatus.REGISTERED).count()
    waiting = Registration.objects.filter(session=session, status=RegStatus.WAITLISTED).count()
    shutil.rmtree(data_dir, ignore_errors=True)

    done_n = max(1, answers.requests_per_s * wall)
    per_ms = {
        "server": (cpu1 - cpu0) / done_n * 1000,
        "PostgreSQL": pg_s / done_n * 1000,
        "wrk": (wrk1 - wrk0) / done_n * 1000,
    }
    busy = (cpu1 - cpu0 + pg_s + wrk1 - wrk0) / wall
    rel, frel = (
        answers.requests_per_s / ref.requests_per_s,
        formed.requests_per_s / ref.requests_per_s,
    )
    print(f"machine: {os.cpu_count()} cores; setup {setup_s:.0f} s; load average "
          f"{load_ref[0]:.2f} after the reference, "
          f"{load_answers[0]:.2f} after the answers")  # fmt: skip
    print(f"reference GET /healthz:   {ref.line()}")
    print(f"answers, htmx path:       {answers.line()}  ({rel:.2f}× /healthz; "
          f"{patrons} patrons × {per}, {connections} connections)")  # fmt: skip
    print(f"answers, no-JS form path: {formed.line()}  ({frel:.2f}× /healthz; "
          f"first {form_answers})")  # fmt: skip
    print("CPU per answer (htmx path): "
          + ", ".join(f"{k} {v:.2f} ms" for k, v in per_ms.items())
          + f"; {busy:.2f} cores busy over {wall:.1f} s")  # fmt: skip
    print(f"integrity: {len(stored)} of {n_answers} answers stored, {lost} lost or not as sent, "
          f"{wrong} of {patrons} scores wrong")  # fmt: skip
    print(f"last seats: 200 at once for 50 → {admitted} admitted (counter {session.registered}), "
          f"{waiting} waiting, {reg_failed} failed; p99 {_pct(reg_lat, 99):.0f} ms")  # fmt: skip
    print("target: ≥ 1,000 answers/s, p99 ≤ 200 ms")
    ok = (
        len(stored) == n_answers
        and not lost
        and not wrong
        and not answers.errors
        and not answers.non_2xx
        and admitted == 50 == session.registered
    )
    return 0 if ok else 1
