"""A push run survives kill -9 of its worker: every subscriber gets the announcement exactly once
(counted by Message-ID at a loopback SMTP server). PostgreSQL only: worker processes need a
database they share with the test (SQLite's test database is in memory)."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from lifeline.core.models import Library
from lifeline.push.choices import RunStatus, State
from lifeline.push.logic import publish, subscriptions
from lifeline.push.models import Announcement, PushRun, Subscriber
from lifeline.push.tests import workers

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a shared PostgreSQL database"
)
SUBSCRIBERS = 300
LEASE = 3


def _database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        f"/{s['NAME']}"
    )


def seed(library: Library, n: int) -> Announcement:
    Subscriber.objects.bulk_create(
        Subscriber(
            library=library,
            email=f"reader{i}@example.edu",
            digest=subscriptions.digest(f"reader{i}@example.edu"),
            topics=",guide,",
            confirmed_at="2020-02-01T00:00:00Z",
        )
        for i in range(n)
    )
    ann = publish.save_announcement(
        Announcement(
            library=library,
            topic="guide",
            title="校外访问指南",
            body="<p>CARSI</p>",
            send_email=False,  # the run is started below, on the database backend
            send_robots=False,
        )
    )
    return publish.move(ann, State.PUBLISHED)


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_run_then_restart_sends_each_once(library_a: Library) -> None:
    ann = seed(library_a, SUBSCRIBERS)
    run = PushRun.objects.create(announcement=ann)
    controller, sink = workers.start_sink()
    try:
        env = workers.worker_env(_database_url(), sink.port, LEASE)
        workers.enqueue_run(env, run.pk)
        first = workers.start_worker(env, batch=False)
        at_kill = workers.kill_when(first, sink, SUBSCRIBERS // 3, timeout=120)
        assert at_kill < SUBSCRIBERS
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING  # the dead worker's run, not finished
        time.sleep(LEASE + 1)  # the heartbeat goes stale, the in-flight lease runs out
        workers.resume(env)
        second = workers.start_worker(env, batch=True)
        _, err = second.communicate(timeout=180)
        assert second.returncode == 0, err.decode()[-2000:]
    finally:
        controller.stop()
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.restarts == 1
    raw, distinct = sink.tally()
    expected = {f"reader{i}@example.edu" for i in range(SUBSCRIBERS)}
    assert set(distinct) == expected
    assert set(distinct.values()) == {1}  # one Message-ID per subscriber: exactly once
    # At most the one message in flight at the kill went twice (same Message-ID).
    assert sum(raw.values()) - SUBSCRIBERS <= 1
