"""Memory of `bench surge`: resident memory of every server process per minute, the slope over
the second half of the run with a verdict, and (with `--memtrace=1`) what grew in the web
workers, from tracemalloc snapshots taken by the bench-side hook in bench/_memhook/.

The verdict (`judge`): a process is flat when its least-squares slope over the second half of
its own time in the run is at most FLAT_MB_PER_MIN. The first half holds the warm-up (imports,
per-process caches, the allocator's arenas, granian's buffers filling up to the load's
concurrency); what still grows in the second half grows for ever. For the processes there from
the start that is the second half of the run; a process the supervisor restarted mid-run (the
db_worker after a database outage) is judged on the second half of its own life, so its
warm-up is not read as growth.
"""

from __future__ import annotations

import json
import math
import pickle
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

# 0.25 MB/min is 15 MB an hour, 360 MB a day: a steady leak that small is still found in a
# 10-minute run (it adds 1.25 MB over the second half, several times the sampling noise of a
# flat process, 0.1–0.3 MB).
FLAT_MB_PER_MIN = 0.25
# A window shorter than this is too short for a slope (12 samples at the bench's 10 s).
MIN_JUDGED_S = 120
HOOK = Path(__file__).resolve().parent / "_memhook"


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares MB per minute of (seconds, MB) points."""
    if len(points) < 3:
        return float("nan")
    xs, ys = [t / 60 for t, _ in points], [mb for _, mb in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def per_minute(points: list[tuple[float, float]], duration: float) -> list[float]:
    """Mean RSS of each minute of the run (NaN for a minute without a sample)."""
    out = []
    for minute in range(max(1, math.ceil(duration / 60))):
        values = [mb for t, mb in points if minute * 60 <= t < (minute + 1) * 60]
        out.append(statistics.fmean(values) if values else float("nan"))
    return out


@dataclass(frozen=True)
class Verdict:
    """How one process was judged: the window [start, end] s of the run, its slope and growth
    over that window, the minutes of data it held, and the word."""

    born: float
    start: float
    end: float
    rate: float
    delta: float
    word: str  # "flat", "GROWS", "ended early", "too young"

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60

    @property
    def grows(self) -> bool:
        return self.word == "GROWS"


def judge(points: list[tuple[float, float]], duration: float, every: float = 10) -> Verdict:
    """The verdict on one process's (seconds, MB) samples.

    Every process is judged on the second half of its *own* time in the run, the first half
    being its warm-up. A process there from the start (its first sample within two sampling
    intervals of the start) is judged from half time, as before. A process born later (one the
    supervisor restarted after a database outage) starts cold, so its warm-up is counted from
    its birth: a process born at b is judged from b + (end - b) / 2. A window shorter than
    MIN_JUDGED_S (too few samples for a slope to mean anything) gives "too young", and a process
    that stopped before 90 % of the run "ended early"; neither counts as flat or as growing.
    """
    if not points:
        return Verdict(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"),
                       "ended early")  # fmt: skip
    born, last = points[0][0], points[-1][0]
    if last < duration * 0.9:  # no window judged: it lived from `born` to `last` s
        return Verdict(born, float("nan"), last, float("nan"), float("nan"), "ended early")
    start = duration / 2 if born <= 2 * every else born + (duration - born) / 2
    window = [(t, mb) for t, mb in points if t >= start]
    end = window[-1][0] if window else last
    if len(window) < 3 or end - start < MIN_JUDGED_S:
        return Verdict(born, start, end, float("nan"), float("nan"), "too young")
    rate = slope(window)
    delta = window[-1][1] - window[0][1]
    return Verdict(born, start, end, rate, delta, "flat" if rate <= FLAT_MB_PER_MIN else "GROWS")


def report(samples: dict[tuple[int, str], list[tuple[float, float]]], duration: float) -> int:
    """Print the per-minute table and the verdict; returns how many processes grew."""
    minutes = max(1, math.ceil(duration / 60))
    print("\nresident memory per server process (MB), mean of each minute:")
    print(f"{'process':30} {'pid':>7} " + " ".join(f"{m + 1:>6}" for m in range(minutes)))
    rows = sorted(samples.items(), key=lambda kv: kv[0][1])
    for (pid, label), points in rows:
        cells = " ".join(f"{mb:6.1f}" for mb in per_minute(points, duration))
        print(f"{label[:30]:30} {pid:>7} {cells}")
    print(
        f"\nverdict: slope over the second half of each process's own time in the run "
        f"(from {duration / 2:.0f} s for the processes there from the start; from b + (end - b)/2 "
        f"for one born at b s), flat when <= {FLAT_MB_PER_MIN} MB/min"
    )
    print(f"{'process':30} {'pid':>7} {'born s':>7} {'judged s':>11} {'min':>5} {'slope':>7} "
          f"{'Δ MB':>6}  verdict")  # fmt: skip
    grew = 0
    for (pid, label), points in rows:
        v = judge(points, duration)
        grew += v.grows
        print(
            f"{label[:30]:30} {pid:>7} {v.born:7.0f} {v.start:5.0f}–{v.end:<5.0f} {v.minutes:5.1f} "
            f"{v.rate:7.2f} {v.delta:6.1f}  {v.word}"
        )
    print(f"memory: {'every process flat' if not grew else f'{grew} process(es) grow'}")
    return grew


class Tracer:
    """Drives the hook: `start` at `begin` s, `snap-1` at `first` s, `snap-2` at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def env(self, base: str) -> dict[str, str]:
        return {
            "PYTHONPATH": f"{HOOK}:{base}" if base else str(HOOK),
            "LIFELINE_BENCH_MEMHOOK": str(self.folder),
        }

    def trigger(self, name: str) -> None:
        (self.folder / name).touch()

    def wait_for(self, pids: list[int], n: int, bound: float = 120) -> None:
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            if all((self.folder / f"{pid}-{n}.json").exists() for pid in pids):
                return
            time.sleep(1)

    def compare(self, pid: int, label: str, a: int = 1, b: int = 2, top: int = 15) -> None:
        try:
            first = _load(self.folder / f"{pid}-{a}.pickle")
            second = _load(self.folder / f"{pid}-{b}.pickle")
            facts = [json.loads((self.folder / f"{pid}-{n}.json").read_text()) for n in (a, b)]
        except (OSError, EOFError, pickle.UnpicklingError):
            print(f"\n{label} {pid}: no snapshots {a} and {b}")
            return
        print(f"\n{label} {pid}: between snapshots {a} and {b}")
        for key in ("rss_mb", "traced_mb", "gc_objects", "threads", "os_threads", "fds",
                    "db_wrappers", "db_open"):  # fmt: skip
            a, b = facts[0].get(key), facts[1].get(key)
            if a is not None:
                print(f"  {key:11} {a:>10.1f} -> {b:>10.1f}")
        types_a = dict(facts[0]["top_types"])
        grown = sorted(
            ((n - types_a.get(t, 0), t) for t, n in facts[1]["top_types"]), reverse=True
        )[:8]
        print("  object types grown: " + ", ".join(f"{t} +{d}" for d, t in grown if d > 0))
        for stat in second.compare_to(first, "traceback")[:top]:
            if stat.size_diff <= 0:
                continue
            # Most recent frame first: the allocation, then who asked for it.
            where = " < ".join(_short(f.filename, f.lineno) for f in list(stat.traceback)[::-1][:5])
            print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {where}")


def _short(filename: str, line: int) -> str:
    for marker in ("site-packages/", "/lifeline/", "/python3.13/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}"


def _load(path: Path) -> tracemalloc.Snapshot:
    with path.open("rb") as handle:
        snapshot: tracemalloc.Snapshot = pickle.load(handle)  # noqa: S301 - our own file
    return snapshot


__all__ = ["FLAT_MB_PER_MIN", "MIN_JUDGED_S", "Tracer", "Verdict", "judge", "report", "slope"]
