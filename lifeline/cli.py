"""The `lifeline` console script.

    lifeline serve [--host H] [--port P] [--workers N] [--threads T] [--backpressure B]
                   [--no-worker]
    lifeline worker
    lifeline check            (Django's `check --deploy`: what to fix before going live)
    lifeline backup [-o FILE] / lifeline restore FILE
    lifeline import-resources FILE [--library CODE] [--dry-run]
    lifeline export-resources ...
    lifeline <any Django management command>

Commands with hyphens map to management commands with underscores.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from types import FrameType

# Long-running processes that `lifeline worker` supervises. Each is a management command
# whose loop finishes the step in hand on SIGTERM. The task worker comes first; apps with
# loops of their own (the access-health prober, the scheduler of periodic jobs) add theirs.
WORKER_COMMANDS: list[list[str]] = [
    ["run_scheduler"],
    ["probe_loop"],
]


MAX_RESTART_DELAY = 8.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifeline.settings")


def task_worker_command() -> list[str]:
    from django.conf import settings

    if settings.TASK_BACKEND == "rq":
        return ["rqworker", "default", "--with-scheduler", "--job-class", "django_tasks_rq.Job"]
    return ["db_worker", "--queue-name", "*", "--interval", "0.5"]


def available_commands() -> set[str]:
    from django.core.management import get_commands

    return set(get_commands())


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "lifeline", *argv])  # noqa: S603 - our own interpreter


def supervise(commands: list[list[str]]) -> int:
    """Run each command as a child; restart one that dies; on SIGTERM/SIGINT stop them all."""
    children = {i: _spawn(argv) for i, argv in enumerate(commands)}
    started = {i: time.monotonic() for i in children}
    # A child that dies soon after its start (e.g. the database is down and it cannot get
    # going) is restarted after 1, 2, 4 ... at most MAX_RESTART_DELAY seconds, not every
    # second: each start costs a second of CPU that the web processes need during an outage.
    delay = dict.fromkeys(children, 1.0)
    due: dict[int, float] = {}
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        time.sleep(1)
        now = time.monotonic()
        for i, child in list(children.items()):
            if stopping or child.poll() is None:
                continue
            if i not in due:
                lived = now - started[i]
                delay[i] = 1.0 if lived > 60 else min(delay[i] * 2, MAX_RESTART_DELAY)
                due[i] = now + (1.0 if lived > 60 else delay[i])
                print(
                    f"lifeline: {' '.join(commands[i])} exited with {child.returncode}; "
                    f"restarting in {due[i] - now:.0f} s",
                    file=sys.stderr,
                )
            elif now >= due[i]:
                del due[i]
                children[i], started[i] = _spawn(commands[i]), now
    deadline = time.monotonic() + 30
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


def worker_commands() -> list[list[str]]:
    known = available_commands()
    commands = [task_worker_command()] + [argv for argv in WORKER_COMMANDS if argv[0] in known]
    return commands + configured_commands(known)


def configured_commands(known: set[str]) -> list[list[str]]:
    """Loops that run only where a setting asks for them: the reference desk's SMTP gateway
    listens on a port, so only the machine given LIFELINE_MAIL_GATEWAY_PORT runs it."""
    from django.conf import settings

    port = int(getattr(settings, "MAIL_GATEWAY_PORT", 0) or 0)
    if port <= 0 or "mail_gateway" not in known:
        return []
    host = str(getattr(settings, "MAIL_GATEWAY_HOST", "127.0.0.1"))
    return [["mail_gateway", "--host", host, "--port", str(port)]]


def cmd_worker(args: list[str]) -> int:
    _setup()
    import django

    django.setup()
    return supervise(worker_commands())


def _metrics_dir() -> None:
    """Several web processes: prometheus-client's multiprocess mode, one empty directory per
    start (counters restart with the server, as Prometheus expects)."""
    import shutil

    from django.conf import settings

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = settings.DATA_DIR / "prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def cmd_serve(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lifeline serve")
    parser.add_argument("--host", default=os.environ.get("LIFELINE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LIFELINE_PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("LIFELINE_WEB_WORKERS", str(os.cpu_count() or 2))),
    )
    parser.add_argument(
        "--threads", type=int, default=int(os.environ.get("LIFELINE_WEB_THREADS", "4"))
    )
    # Granian's --backpressure caps the *connections* a worker holds, not requests in flight:
    # an idle keep-alive connection keeps its place. At twice the threads (8) a worker held 8
    # browsers; with 500 patrons polling a chat every 3 s (each browser keeps its connection
    # open between polls) the others waited in the kernel's queue until one closed, and polls
    # took 30 s while the server sat idle (issue 11, bench/reference.py). Requests beyond the
    # threads wait inside the worker, which is what a server facing browsers must do.
    parser.add_argument(
        "--backpressure",
        type=int,
        default=int(os.environ.get("LIFELINE_WEB_BACKPRESSURE", "0")),
        help="connections held at once per worker (default: 1024 / workers, at least 64)",
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="serve pages only (workers run elsewhere)"
    )
    opts = parser.parse_args(args)
    _setup()
    import django

    django.setup()
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command

    from lifeline.core.checks import refuse_weak_secrets

    try:
        refuse_weak_secrets()  # before any worker starts (issue 21)
    except ImproperlyConfigured as exc:
        print(exc, file=sys.stderr)
        return 1
    call_command("collectstatic", interactive=False, verbosity=0)
    _metrics_dir()
    web = [
        "granian",
        "--interface",
        "wsgi",
        "--host",
        opts.host,
        "--port",
        str(opts.port),
        "--workers",
        str(opts.workers),
        "--blocking-threads",
        str(opts.threads),
        "--backpressure",
        str(opts.backpressure or max(64, 1024 // max(1, opts.workers))),
        "--no-ws",
        "lifeline.wsgi:application",
    ]
    commands = [] if opts.no_worker else worker_commands()
    web_proc = subprocess.Popen([sys.executable, "-m", *web])  # noqa: S603 - our own interpreter
    sup = subprocess.Popen([sys.executable, "-m", "lifeline", "worker"]) if commands else None

    def stop(signum: int, frame: FrameType | None) -> None:
        for proc in (web_proc, sup):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = web_proc.wait()
    stop(signal.SIGTERM, None)
    if sup is not None:
        sup.wait(timeout=35)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return cmd_serve(argv[1:])
    if argv and argv[0] == "worker":
        return cmd_worker(argv[1:])
    _setup()
    from django.core.management import execute_from_command_line

    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")
    if argv[:1] == ["check"] and "--deploy" not in argv:
        # `lifeline check` is the go-live check: Django's and Lifeline's deployment checks too.
        argv.append("--deploy")
    execute_from_command_line(["lifeline", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
