"""COUNTER import: a 1,000,000-row TR_J1 (TSV, R5.0) into SQLite and into PostgreSQL.

    python -m bench counter [--rows=1000000] [--sqlite-only]

Each database runs in a child process with its own settings (a temporary SQLite file; a scratch
PostgreSQL database `lifeline_bench_counter` on 127.0.0.1, dropped afterwards). Timed: the full
import (decode, check header and every row against the Code of Practice, map platforms,
deduplicate titles, replace earlier counts, insert, commit), twice (the second replaces the
first); the larger of the two is the result. Also shown: the parse alone and the CPU time of the
importing process (polars uses threads, PostgreSQL's own work is not in it).
Reference in the same run: pycounter (PyPI) only parsing the same TSV. Target: ≤ 10 s each.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "lifeline_bench_counter"
TARGET_SECONDS = 10.0
HEADER_ROWS = [
    ("Report_Name", "Journal Requests (Excluding OA_Gold)"),
    ("Report_ID", "TR_J1"),
    ("Release", "5"),
    ("Institution_Name", "Bench University"),
    ("Institution_ID", ""),
    ("Metric_Types", "Total_Item_Requests; Unique_Item_Requests"),
    ("Report_Filters", "Data_Type=Journal; Access_Type=Controlled; Access_Method=Regular"),
    ("Report_Attributes", ""),
    ("Exceptions", ""),
    ("Reporting_Period", "Begin_Date=2024-01-01; End_Date=2024-01-31"),
    ("Created", "2024-02-03T10:00:00Z"),
    ("Created_By", "Bench Publisher"),
]
COLUMNS = [
    "Title",
    "Publisher",
    "Publisher_ID",
    "Platform",
    "DOI",
    "Proprietary_ID",
    "Print_ISSN",
    "Online_ISSN",
    "URI",
    "Metric_Type",
    "Reporting_Period_Total",
    "Jan-2024",
]
HEADER = "".join(f"{k}\t{v}\n" for k, v in HEADER_ROWS) + "\n" + "\t".join(COLUMNS) + "\n"


def make_file(rows: int) -> bytes:
    lines = [HEADER]
    for i in range(rows // 2):
        ident = f"Journal {i}\tBench Press\t\tPlatform {i % 20}\t10.9999/j{i}\tbench:{i}\t\t\t\t"
        total, unique = 1 + i % 97, 1 + i % 61
        lines.append(
            f"{ident}Total_Item_Requests\t{total}\t{total}\n{ident}Unique_Item_Requests\t{unique}\t{unique}\n"
        )
    return "".join(lines).encode("utf-8")


def child(rows: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from lifeline.analytics.counter.parse import parse_report
    from lifeline.analytics.importer import import_file
    from lifeline.analytics.models import UsageRecord
    from lifeline.core.models import Library

    call_command("migrate", verbosity=0)
    library = Library.objects.create(code="bench", name="Bench")
    data = make_file(rows)
    t, cpu = time.perf_counter(), time.process_time()
    parsed = parse_report(data, "tr_j1.tsv")
    reader = "fast" if parsed.frame is not None else "row-by-row"
    print(
        f"  parse only ({reader} reader): {time.perf_counter() - t:.2f} s "
        f"(CPU {time.process_time() - cpu:.2f} s)"
    )
    del parsed
    timings, cpus = [], []
    for _ in range(2):
        t, cpu = time.perf_counter(), time.process_time()
        report = import_file(library, data, "tr_j1.tsv")
        timings.append(time.perf_counter() - t)
        cpus.append(time.process_time() - cpu)
    assert UsageRecord.objects.count() == report.row_count == rows
    assert report.replaced_rows == rows
    # CPU is this process only (with polars' threads), not the PostgreSQL server's.
    print(
        f"  import {rows:,} rows: first {timings[0]:.2f} s (CPU {cpus[0]:.2f} s), "
        f"re-import (replace) {timings[1]:.2f} s (CPU {cpus[1]:.2f} s)"
    )
    print(f"RESULT {max(timings):.3f}")


def pycounter_parse(rows: int) -> float:
    from pycounter import report as pyreport

    with tempfile.NamedTemporaryFile(suffix=".tsv", delete=False) as fh:
        fh.write(make_file(rows))
        path = fh.name
    try:
        t = time.perf_counter()
        pyreport.parse(path)
        return time.perf_counter() - t
    finally:
        os.unlink(path)


def run(db_url: str, rows: int) -> float:
    env = dict(os.environ, LIFELINE_DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="lifeline.settings")
    out = subprocess.run(
        [sys.executable, "-m", "bench.counter", "--child", f"--rows={rows}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print("\n".join(line for line in out.stdout.splitlines() if not line.startswith("RESULT")))
    if out.returncode:
        print(out.stderr[-2000:])
        return float("inf")
    return float(
        next(line for line in out.stdout.splitlines() if line.startswith("RESULT")).split()[1]
    )


def main(argv: list[str]) -> int:
    rows = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--rows=")), 1_000_000)
    if "--child" in argv:
        child(rows)
        return 0
    print(f"machine: {platform.node()} {os.cpu_count()} cpu, Python {sys.version.split()[0]}")
    # The target is wall time on a quiet machine: show how quiet it was.
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    try:
        ref = pycounter_parse(rows)
        print(f"reference: pycounter parses the same TSV in {ref:.2f} s")
    except Exception as exc:  # the reference is informative only
        ref = float("nan")
        print(f"reference: pycounter failed: {exc!r}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:")
        sqlite = run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", rows)
        print(f"  {sqlite:.2f} s = {sqlite / ref:.2f}x pycounter's parse")
        ok &= sqlite <= TARGET_SECONDS
    if "--sqlite-only" not in argv:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        try:
            print("PostgreSQL:")
            pg = run(PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DB}", rows)
            print(f"  {pg:.2f} s = {pg / ref:.2f}x pycounter's parse")
            ok &= pg <= TARGET_SECONDS
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("PASS" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
