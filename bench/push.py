"""Push of one announcement to many e-mail subscribers through the outbox (issue 11).

A real `db_worker` subprocess sends to a loopback aiosmtpd server; once half the messages are in,
it is killed with SIGKILL; after the lease runs out the periodic job's `resume_stale` enqueues the
run again and a second worker finishes it. Checked: every subscriber got the announcement, one
Message-ID each (a resend of the message in flight at the kill keeps its Message-ID and is
counted separately). Reported: messages per second before and after the kill, and the same
number of messages sent straight over one SMTP connection with no database (the reference).

    python -m bench push [--subscribers=50000] [--lease=10]

PostgreSQL when LIFELINE_BENCH_DATABASE_URL names a database (dropped and created afresh), else a
scratch SQLite file.
"""

from __future__ import annotations

import os
import time
from email.message import EmailMessage
from typing import Any

from bench._common import ROOT, option, scratch_django


def _fresh_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str | None, lease: int) -> str:
    env = {
        "LIFELINE_TASK_BACKEND": "database",
        "LIFELINE_LOG_LEVEL": "WARNING",
        "LIFELINE_PUSH_LEASE_SECONDS": str(lease),
    }
    if url:
        _fresh_postgres(url)
        os.environ.update(
            LIFELINE_DATABASE_URL=url,
            LIFELINE_DATA_DIR=str(ROOT / "bench" / "tmp" / "push"),
            DJANGO_SETTINGS_MODULE="lifeline.settings",
            **env,
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return url
    tmp = scratch_django("push", **env)
    return f"sqlite:///{tmp / 'lifeline.sqlite3'}"


def _seed(n: int) -> Any:
    from lifeline.core.models import Library
    from lifeline.push.choices import State
    from lifeline.push.demo import ITEMS
    from lifeline.push.logic import publish, subscriptions
    from lifeline.push.models import Announcement, PushRun, Subscriber

    library = Library.objects.create(code="nefu", name="东北林业大学图书馆")
    for start in range(0, n, 5000):
        Subscriber.objects.bulk_create(
            Subscriber(
                library=library,
                email=f"reader{i}@nefu.example.edu",
                digest=subscriptions.digest(f"reader{i}@nefu.example.edu"),
                topics=",guide,",
                language="en" if i % 5 == 0 else "zh-hans",
                confirmed_at="2020-02-01T00:00:00Z",
            )
            for i in range(start, min(n, start + 5000))
        )
    _when, topic, _key, title, title_en, body, body_en = ITEMS[0]
    ann = publish.save_announcement(
        Announcement(
            library=library,
            topic=topic,
            title=title,
            title_en=title_en,
            body=body,
            body_en=body_en,
            send_email=False,  # the run is made below, to time it on its own
            send_robots=False,
        )
    )
    publish.move(ann, State.PUBLISHED)
    return PushRun.objects.create(announcement=ann)


def _reference(port: int, count: int) -> float:
    """Messages per second straight over one SMTP connection: no database, no outbox."""
    import smtplib

    msg = EmailMessage()
    msg["From"], msg["Subject"] = "lifeline@localhost", "reference"
    msg.set_content("x" * 1500)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            del msg["To"]
            msg["To"] = f"ref{i}@example.edu"
            smtp.send_message(msg)
    return count / (time.perf_counter() - start)


def main(argv: list[str]) -> int:
    n = option(argv, "subscribers", 50_000)
    lease = option(argv, "lease", 10)
    url = _setup(os.environ.get("LIFELINE_BENCH_DATABASE_URL"), lease)
    from lifeline.push.choices import RunStatus
    from lifeline.push.logic import runs
    from lifeline.push.models import PushRun
    from lifeline.push.tasks import push_run
    from lifeline.push.tests import workers

    t = time.perf_counter()
    run = _seed(n)
    print(f"seeded {n} subscribers in {time.perf_counter() - t:.1f} s ({url.split(':')[0]})")
    controller, sink = workers.start_sink()
    try:
        env = workers.worker_env(url, sink.port, lease)
        push_run.enqueue(run.pk)
        first = workers.start_worker(env, batch=False)
        while sink.count() == 0:
            time.sleep(0.01)
        t0, c0 = time.perf_counter(), sink.count()
        at_kill = workers.kill_when(first, sink, n // 2, timeout=3600)
        t_kill = time.perf_counter()
        time.sleep(lease + 1)  # the run's heartbeat goes stale; the in-flight lease runs out
        assert runs.resume_stale() == 1, "the dead run was not found"
        t_restart = time.perf_counter()
        second = workers.start_worker(env, batch=True)
        _, err = second.communicate(timeout=3600)
        t_end = time.perf_counter()
        assert second.returncode == 0, err.decode()[-2000:]
        after = sink.count()
        raw, distinct = sink.tally()
        reference = _reference(sink.port, min(n, 10_000))
    finally:
        controller.stop()
    run = PushRun.objects.get(pk=run.pk)
    expected = {f"reader{i}@nefu.example.edu" for i in range(n)}
    missing = len(expected - set(distinct))
    twice = sum(1 for v in distinct.values() if v > 1)
    resent = sum(raw.values()) - len(distinct)
    before_rate = (at_kill - c0) / (t_kill - t0)
    after_rate = (after - at_kill) / (t_end - t_restart)
    print(f"killed the worker (SIGKILL) after {at_kill} messages; run restarts: {run.restarts}")
    print(f"before the kill: {before_rate:,.0f} messages/s")
    print(f"after the restart (worker start-up included): {after_rate:,.0f} messages/s")
    print(f"reference, one SMTP connection, no database: {reference:,.0f} messages/s")
    print(f"ratio outbox/reference: {before_rate / reference:.2f}")
    print(
        f"subscribers {n}: missing {missing}, more than one Message-ID {twice}, "
        f"the same Message-ID resent {resent}; run {run.status}"
    )
    ok = missing == 0 and twice == 0 and run.status == RunStatus.DONE
    print("exactly once per subscriber: " + ("yes" if ok else "NO"))
    return 0 if ok else 1
