"""Helpers every benchmark shares: options, a scratch database, a free port, best-of-three timing.

(The runner in bench/__main__.py skips modules whose names start with "_".)
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def option(argv: list[str], name: str, default: int) -> int:
    """`--name=N` from argv, or the default."""
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return int(arg.split("=", 1)[1])
    return default


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def best_per_call(fn: Callable[[], Any], calls: int, unit: float = 1000) -> float:
    """Best of three runs of `calls` calls, per call, in seconds × unit (1000: ms, 1e6: µs).
    The best, not the mean: the machine is shared and the neighbours only ever add time."""
    fn()  # warm
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls * unit)
    return best


def scratch_django(name: str, **env: str) -> Path:
    """A fresh SQLite database under bench/tmp/<name>/, migrated, with Django set up on it."""
    tmp = ROOT / "bench" / "tmp" / name
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    os.environ.update(
        LIFELINE_DATABASE_URL=f"sqlite:///{tmp / 'lifeline.sqlite3'}",
        LIFELINE_DATA_DIR=str(tmp),
        LIFELINE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
        **env,
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def run_child(module: str, args: list[str], database_url: str, timeout: float = 1800) -> str:
    """Run `python -m <module> --child <args>` against one database; its last output line."""
    import subprocess
    import sys

    env = dict(
        os.environ,
        LIFELINE_DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="lifeline.settings",
        LIFELINE_LOG_LEVEL="WARNING",
    )
    result = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout.strip().splitlines()[-1]


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def on_each_database(
    run: Callable[[str], str],
    pg_db: str,
    *,
    postgres: bool = True,
    echo: bool = False,
    sqlite: bool = True,
) -> list[str]:
    """`run(database_url)` on a fresh SQLite file, then (unless told not to) on a fresh
    PostgreSQL database `pg_db`, dropped afterwards: the results in that order."""
    import tempfile

    results = []
    if sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
            if echo:
                print(results[-1], flush=True)
    if postgres:
        pg_admin(f"DROP DATABASE IF EXISTS {pg_db}")
        pg_admin(f"CREATE DATABASE {pg_db}")
        try:
            results.append(run(f"postgres://postgres@127.0.0.1:5432/{pg_db}"))
        finally:
            pg_admin(f"DROP DATABASE IF EXISTS {pg_db}")
    return results


def bench_pg_name(default: str) -> str:
    """The scratch PostgreSQL database of a bench: the one LIFELINE_BENCH_DATABASE_URL names
    (each engineer has their own), else `default`."""
    url = os.environ.get("LIFELINE_BENCH_DATABASE_URL", "")
    if url.startswith("postgres"):
        return url.rsplit("/", 1)[-1].split("?", 1)[0] or default
    return default


def bench_cache(name: str) -> Path | None:
    """Where a bench keeps generated input between runs (LIFELINE_BENCH_CACHE, a directory),
    or None: generated afresh each run."""
    where = os.environ.get("LIFELINE_BENCH_CACHE", "")
    if not where:
        return None
    Path(where).mkdir(parents=True, exist_ok=True)
    return Path(where) / name
