"""The production server and wrk, once for every HTTP benchmark.

    with LifelineServer(env) as server:          # `lifeline serve --no-worker` on a free port
        ref = wrk(f"{server.base}/healthz", 10, 32)
        page = wrk(f"{server.base}/lib/bench/", 10, 32)

`bench_env(url, data_dir)` gives the environment a bench server needs: DEBUG off refuses the
public development keys (a deploy check), so fresh random keys are set, and the bench process can
share them (sessions it writes are the server's). `fresh_postgres(url)` drops and creates a
database. `process_cpu(pids)` reads the CPU seconds of a process tree from /proc, so a bench can
report cores used without psutil.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from bench._common import ROOT, free_port


def bench_env(database_url: str, data_dir: str | Path, **extra: str) -> dict[str, str]:
    """The server's environment (and, with os.environ.update, the bench process's)."""
    env = dict(os.environ)
    env.pop("LIFELINE_REDIS_URL", None)
    env.update(
        LIFELINE_SECRET_KEY=secrets.token_urlsafe(64),
        LIFELINE_FIELD_KEY=secrets.token_urlsafe(64),
        LIFELINE_LOG_USER_KEY=secrets.token_urlsafe(64),
        LIFELINE_SIGNING_KEY=secrets.token_urlsafe(64),
        LIFELINE_DATABASE_URL=database_url,
        LIFELINE_DATA_DIR=str(data_dir),
        LIFELINE_DEBUG="false",
        LIFELINE_TASK_BACKEND="immediate",
        LIFELINE_LOG_LEVEL="WARNING",
        LIFELINE_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
    )
    env.update(extra)
    return env


def fresh_postgres(url: str) -> None:
    """Drop and create the database named by a postgres:// URL."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_ready(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s")


class LifelineServer:
    """`lifeline serve` on 127.0.0.1 in its own process group; stopped (SIGTERM, then SIGKILL)
    on leaving the block. `worker=True` also runs the background worker, as production does."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        port: int | None = None,
        worker: bool = False,
        args: tuple[str, ...] = (),
        log: Path | None = None,
        ready_timeout: float = 90.0,
    ) -> None:
        self.env = env
        self.ready_timeout = ready_timeout
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.worker = worker
        self.args = args
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        argv = [sys.executable, "-m", "lifeline", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), *self.args]
        if not self.worker:
            argv.append("--no-worker")
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, start_new_session=True, stdout=out, stderr=out
        )
        try:
            wait_ready(f"{self.base}/healthz", self.ready_timeout)
        except BaseException:
            # `with` never reaches __exit__ when __enter__ fails: a server too slow to answer
            # (a busy machine) was left running, with its worker, after the bench had given up.
            self.stop()
            raise
        return self

    def pids(self) -> list[int]:
        """The server's processes: the supervisor and everything under it."""
        return process_tree(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def process_tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def process_rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes in MB (VmRSS)."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total / 1024


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    output: str

    def line(self) -> str:
        return (
            f"{self.requests_per_s:8.0f} req/s  p50 {self.p50_ms:6.1f} ms  "
            f"p99 {self.p99_ms:6.1f} ms  errors {self.errors}  non-2xx {self.non_2xx}"
        )


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return float(match.group(1)) * scale[match.group(2)] if match else float("nan")


def parse_wrk(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return WrkResult(
        rps,
        _latency(output, "50"),
        _latency(output, "99"),
        errors,
        int(non_2xx.group(1)) if non_2xx else 0,
        output,
    )


def wrk(
    url: str,
    duration: int,
    connections: int,
    *headers: str,
    script: str | Path | None = None,
    threads: int = 2,
) -> WrkResult:
    """wrk with `--latency` (and a Lua script if given); bounded in time."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    cmd += ["--timeout", "10s"]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    return parse_wrk(out)
