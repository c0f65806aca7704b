"""Background work: the same tasks through the database backend and through RQ on Redis,
several worker processes at once, every job run exactly once. PostgreSQL only: worker
processes need a database they can share with the test (SQLite's test database is in memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.db import connection

from lifeline.core.models import AuditLog

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a shared PostgreSQL database"
)

JOBS = 60


def _env(backend: str) -> dict[str, str]:
    settings_dict = connection.settings_dict
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    url = f"postgres://{user}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "LIFELINE_TEST"))}
    env.update(
        LIFELINE_DATABASE_URL=url,
        LIFELINE_TASK_BACKEND=backend,
        DJANGO_SETTINGS_MODULE="lifeline.settings",
        LIFELINE_REDIS_URL=os.environ.get("LIFELINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    return env


def _python(code: str, env: dict[str, str]) -> None:
    prelude = "import django; django.setup(); "
    subprocess.run([sys.executable, "-c", prelude + code], env=env, check=True, timeout=120)


def _enqueue(env: dict[str, str]) -> None:
    _python(
        "from lifeline.core.testtasks import record_run\n"
        f"for i in range({JOBS}): record_run.enqueue(f'job-{{i}}')",
        env,
    )


def _workers(argv: list[str], env: dict[str, str], count: int = 3) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lifeline", *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]


def _assert_each_once() -> None:
    markers = list(AuditLog.objects.filter(model="test.worker").values_list("message", flat=True))
    assert sorted(markers) == sorted(f"job-{i}" for i in range(JOBS))


@pytest.mark.django_db(transaction=True)
def test_database_backend_three_workers_run_each_job_once(django_db_blocker: Any) -> None:
    env = _env("database")
    _enqueue(env)
    _workers(["db_worker", "--batch", "--no-startup-delay", "--interval", "0.1"], env)
    _assert_each_once()


@pytest.mark.django_db(transaction=True)
def test_rq_backend_three_workers_run_each_job_once() -> None:
    redis = pytest.importorskip("redis")
    env = _env("rq")
    client = redis.Redis.from_url(env["LIFELINE_REDIS_URL"])
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1")
    client.flushdb()
    _enqueue(env)
    _workers(["rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job"], env)
    _assert_each_once()
