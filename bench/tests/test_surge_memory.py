"""The surge bench's memory verdict on synthetic series (no server, no database).

Run: .venv/bin/pytest bench/tests/test_surge_memory.py
"""

from __future__ import annotations

import math

from bench._surge_memory import FLAT_MB_PER_MIN, MIN_JUDGED_S, judge, report, slope

DURATION = 600.0
EVERY = 10.0


def series(
    rss: float, *, born: float = 0.0, end: float = DURATION, per_min: float = 0.0,
    warm_mb: float = 0.0, warm_s: float = 0.0, jitter: float = 0.1,
) -> list[tuple[float, float]]:  # fmt: skip
    """Samples every 10 s from `born` to `end`: `warm_mb` gained over the first `warm_s` s of
    the process's life, then `per_min` MB a minute, plus an alternating +-jitter."""
    points = []
    t, i = born, 0
    while t <= end:
        age = t - born
        warm = warm_mb * min(1.0, age / warm_s) if warm_s else 0.0
        grow = per_min * max(0.0, age - warm_s) / 60
        points.append((t, rss + warm + grow + (jitter if i % 2 else -jitter)))
        t, i = t + EVERY, i + 1
    return points


def test_flat_process_is_flat() -> None:
    v = judge(series(415.0, warm_mb=30, warm_s=180), DURATION, EVERY)
    assert v.word == "flat"
    assert v.start == DURATION / 2
    assert abs(v.rate) < 0.05


def test_growing_process_grows() -> None:
    v = judge(series(415.0, per_min=0.6), DURATION, EVERY)
    assert v.word == "GROWS"
    assert math.isclose(v.rate, 0.6, abs_tol=0.05)
    assert v.grows


def test_slow_growth_under_the_line_is_flat() -> None:
    assert judge(series(415.0, per_min=FLAT_MB_PER_MIN / 2), DURATION, EVERY).word == "flat"


def test_restarted_process_is_judged_after_its_own_warm_up() -> None:
    # The db_worker the supervisor restarted at 311 s: 285 -> 324 MB over its first two
    # minutes, then flat. Judged from birth (or from half time) that reads as growth.
    points = series(285.0, born=311, warm_mb=39, warm_s=120)
    from_half_time = [(t, mb) for t, mb in points if t >= DURATION / 2]
    assert slope(from_half_time) > 5  # what the old verdict saw: 7 MB/min "growth"
    v = judge(points, DURATION, EVERY)
    assert v.word == "flat"
    assert math.isclose(v.start, 311 + (DURATION - 311) / 2)
    assert v.minutes * 60 >= MIN_JUDGED_S


def test_restarted_process_that_keeps_growing_grows() -> None:
    v = judge(series(285.0, born=311, warm_mb=39, warm_s=120, per_min=1.0), DURATION, EVERY)
    assert v.word == "GROWS"


def test_process_born_too_late_is_not_judged() -> None:
    v = judge(series(285.0, born=450, warm_mb=39, warm_s=120), DURATION, EVERY)
    assert v.word == "too young"
    assert not v.grows


def test_process_that_ended_early_is_not_judged() -> None:
    v = judge(series(330.0, end=300), DURATION, EVERY)
    assert v.word == "ended early"
    assert not v.grows
    assert math.isnan(v.minutes)  # no window was judged


def test_report_counts_only_growing_processes(capsys: object) -> None:
    samples = {
        (1, "granian (web)"): series(415.0, warm_mb=30, warm_s=180),
        (2, "granian (web)"): series(418.0, per_min=0.6),
        (3, "db_worker (old)"): series(330.0, end=300),
        (4, "db_worker"): series(285.0, born=311, warm_mb=39, warm_s=120),
    }
    assert report(samples, DURATION) == 1
