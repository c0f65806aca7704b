"""Helpers for the kill -9 test and bench (bench/push.py): a counting SMTP server on loopback
and a real `db_worker` subprocess on a database shared with the caller."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller


class CountingSink:
    """Records (recipient, Message-ID) of every message the server accepted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, str]] = []
        self.port = 0
        self._parser = BytesHeaderParser()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_id = self._parser.parsebytes(envelope.content).get("Message-ID", "")
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, message_id))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def tally(self) -> tuple[Counter[str], Counter[str]]:
        """Messages per recipient, and distinct Message-IDs per recipient."""
        with self.lock:
            raw = Counter(r for r, _m in self.received)
            distinct = Counter(r for r, _m in set(self.received))
        return raw, distinct


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sink() -> tuple[Controller, CountingSink]:
    # aiosmtpd logs every SMTP line at INFO: at 50,000 messages that is most of the cost.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = CountingSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    return controller, sink


def worker_env(database_url: str, smtp_port: int, lease: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "LIFELINE_TEST"))}
    env.update(
        LIFELINE_DATABASE_URL=database_url,
        LIFELINE_TASK_BACKEND="database",
        LIFELINE_EMAIL_HOST="127.0.0.1",
        LIFELINE_EMAIL_PORT=str(smtp_port),
        LIFELINE_EMAIL_BACKEND="smtp",
        LIFELINE_PUSH_LEASE_SECONDS=str(lease),
        LIFELINE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
    )
    return env


def start_worker(env: dict[str, str], *, batch: bool) -> subprocess.Popen[bytes]:
    argv = ["db_worker", "--queue-name", "*", "--interval", "0.1", "--no-startup-delay"]
    if batch:
        argv.append("--batch")
    return subprocess.Popen(
        [sys.executable, "-m", "lifeline", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def enqueue_run(env: dict[str, str], run_pk: int) -> None:
    """Enqueue through the database backend from another process (the caller may be a test
    whose own backend runs tasks at once)."""
    code = (
        "import django; django.setup()\n"
        "from lifeline.push.tasks import push_run\n"
        f"push_run.enqueue({run_pk})\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


def resume(env: dict[str, str]) -> None:
    """What the periodic job does once the dead run's heartbeat is older than the lease."""
    code = (
        "import django; django.setup()\n"
        "from lifeline.push.logic.runs import resume_stale\n"
        "print(resume_stale())\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


def kill_when(proc: subprocess.Popen[bytes], sink: CountingSink, at: int, timeout: float) -> int:
    """kill -9 the worker once the server has accepted `at` messages; returns the count then."""
    deadline = time.monotonic() + timeout
    while sink.count() < at:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sink.count()} messages after {timeout} s")
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return sink.count()
