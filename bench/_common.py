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
