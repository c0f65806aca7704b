"""Run benchmarks: `python -m bench` runs every topic; `python -m bench az kbart` runs those.

Each topic is a module `bench/<topic>.py` with `main(argv: list[str]) -> int`. Results are printed
and appended to the topic's section in docs/benchmarks.md by hand (with machine and date).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def topics() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    chosen = [a for a in argv if not a.startswith("-")] or topics()
    code = 0
    for topic in chosen:
        if topic not in topics():
            print(f"unknown benchmark {topic!r}; known: {', '.join(topics())}", file=sys.stderr)
            return 2
        print(f"== bench {topic}", flush=True)
        code |= importlib.import_module(f"bench.{topic}").main(
            [a for a in argv if a.startswith("-")]
        )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
