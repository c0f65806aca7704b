"""`lifeline serve` end to end: the production server answers and its built-in worker runs tasks."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lifeline.core import keyfiles

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_its_worker_runs_tasks(tmp_path: Path) -> None:
    db = tmp_path / "serve.sqlite3"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "LIFELINE_TEST", "LIFELINE_DATABASE"))
    }
    # Served with DEBUG off: real keys, or the start is refused (issue 21, core/checks.py).
    keys = keyfiles.ensure(tmp_path / "keys")
    env.update(
        LIFELINE_SECRET_KEY_FILE=str(keys["secret_key"]),
        LIFELINE_FIELD_KEY_FILE=str(keys["field_key"]),
        LIFELINE_LOG_USER_KEY_FILE=str(keys["log_user_key"]),
        LIFELINE_DATABASE_URL=f"sqlite:///{db}",
        LIFELINE_DATA_DIR=str(tmp_path),
        LIFELINE_TASK_BACKEND="database",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
    )
    lifeline = [sys.executable, "-m", "lifeline"]
    subprocess.run([*lifeline, "migrate", "-v", "0"], env=env, check=True, timeout=180)
    port = free_port()
    server = subprocess.Popen(
        [*lifeline, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, (
                    server.stderr.read().decode()[-2000:] if server.stderr else ""
                )
                assert time.monotonic() < deadline, "server did not start within 60 s"
                time.sleep(0.3)
        assert response.status_code == 200 and response.text == "ok"
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from lifeline.core.testtasks import record_run; "
                "record_run.enqueue('from-serve')",
            ],
            env=env,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 60
        while True:
            with sqlite3.connect(db) as conn:
                rows = conn.execute(
                    "select count(*) from core_auditlog where message = 'from-serve'"
                ).fetchone()[0]
            if rows:
                break
            assert time.monotonic() < deadline, (
                "the worker inside `lifeline serve` did not run the task"
            )
            time.sleep(0.3)
        assert rows == 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("`lifeline serve` did not stop on SIGTERM")
