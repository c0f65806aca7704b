"""Bench-side memory probe (`python -m bench surge --memtrace=1`), never loaded by the product.

The surge bench puts this folder first on PYTHONPATH of the server it starts, with
LIFELINE_BENCH_MEMHOOK naming a folder. Python imports `sitecustomize` at start-up, so every
process of the server tree (granian's workers are forked from its main process) runs a small
thread that watches that folder for trigger files:

- `start`: begin tracing allocations (tracemalloc, 12 frames) from now on;
- `snap-<n>`: write `<pid>-<n>.pickle` (a tracemalloc snapshot) and `<pid>-<n>.json` (RSS,
  traced memory, gc object counts by type, threads, database connections open in the process).

Tracing starts late on purpose: the warm-up (imports, template and URL caches) is not growth.

A snapshot disturbs the server it measures: `gc.get_objects()` (the counts by type) hands out
tuples that other threads are still building, and CPython 3.13 then fails their resize with
"SystemError: Objects/tupleobject.c: bad argument to internal function". In the restart run of
2026-12-07 (04:00 UTC) three status pages per snapshot answered 500 that way, at the snapshot
instants only. A run with `--memtrace=1` therefore judges memory, not errors.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

FOLDER = os.environ.get("LIFELINE_BENCH_MEMHOOK", "")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _facts() -> dict[str, object]:
    import tracemalloc

    kinds = Counter(type(o).__name__ for o in gc.get_objects())
    facts: dict[str, object] = {
        "pid": os.getpid(),
        "argv": sys.argv[:4],
        "rss_mb": _rss_mb(),
        "traced_mb": tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else 0,
        "gc_objects": sum(kinds.values()),
        "top_types": kinds.most_common(25),
        "threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
    }
    if "django.db" in sys.modules:
        from django.db.backends.base.base import BaseDatabaseWrapper

        # type(), not isinstance(): isinstance reads __class__, which makes every lazy object
        # (translations, settings, SimpleLazyObject) evaluate itself; that took minutes.
        wrappers = [o for o in gc.get_objects() if issubclass(type(o), BaseDatabaseWrapper)]
        facts["db_wrappers"] = len(wrappers)
        facts["db_open"] = sum(1 for w in wrappers if w.connection is not None)
    return facts


def _watch(folder: Path) -> None:
    import pickle
    import tracemalloc

    done: set[str] = set()
    pid = os.getpid()
    while True:
        time.sleep(1)
        try:
            names = sorted(p.name for p in folder.iterdir() if "-" not in p.name or
                           p.name.startswith("snap-"))  # fmt: skip
        except OSError:
            continue
        for name in names:
            if name in done:
                continue
            done.add(name)
            if name == "start":
                tracemalloc.start(12)
            elif name.startswith("snap-") and tracemalloc.is_tracing():
                n = name.split("-", 1)[1]
                facts = _facts()
                snapshot = tracemalloc.take_snapshot()
                with open(folder / f"{pid}-{n}.pickle", "wb") as handle:
                    pickle.dump(snapshot, handle)
                (folder / f"{pid}-{n}.json").write_text(json.dumps(facts))


def _begin() -> None:
    threading.Thread(target=_watch, args=(Path(FOLDER),), daemon=True, name="memhook").start()


if FOLDER:
    _begin()
    os.register_at_fork(after_in_child=_begin)
