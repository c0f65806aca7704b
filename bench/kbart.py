"""KBART import: 100,000 title lines into one resource, on SQLite and on PostgreSQL.

    python -m bench kbart [--rows=N] [--sqlite-only]

Each database runs in a child process with its own settings (a temporary SQLite file; a scratch
PostgreSQL database `lifeline_bench_kbart` on 127.0.0.1, dropped afterwards). Figures: the full
import (decode, parse, normalise ISSN/ISBN, dates, replace atomically) run twice (the second
replaces the first), its CPU time (the shared machine's load inflates wall time), and a reference
measured in the same run: the same rows written by a bare `executemany` INSERT of pre-built tuples
in one transaction, the floor any importer has to pay.
"""

from __future__ import annotations

import os
import platform
import sys
import time

from bench._common import on_each_database, run_child

PG_DB = "lifeline_bench_kbart"
TARGET_SECONDS = 10.0


def issn(n: int) -> str:
    from lifeline.registry.io.identifiers import issn_check_digit

    body = f"{n % 10_000_000:07d}"
    return f"{body[:4]}-{body[4:]}{issn_check_digit(body)}"


def make_file(rows: int) -> bytes:
    header = "publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online\tnum_first_vol_online\tdate_last_issue_online\ttitle_url\tfirst_author\ttitle_id\tcoverage_depth\tpublisher_name\tpublication_type\n"  # noqa: E501
    lines = [header]
    for i in range(rows):
        lines.append(
            f"Journal of Things 第{i}卷\t{issn(2 * i + 1)}\t{issn(2 * i + 2)}\t{1990 + i % 30}-0{1 + i % 9}\t{i % 50}\t"  # noqa: E501
            f"{'' if i % 3 else '2020-12'}\thttps://journals.example.com/j{i}\t\tj{i}\tfulltext\tExample Press\tserial\n"  # noqa: E501
        )
    return "".join(lines).encode("utf-8")


def child(rows: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from lifeline.core.models import Library
    from lifeline.registry.io.kbart import import_kbart
    from lifeline.registry.models import KbartTitle, Resource

    call_command("migrate", verbosity=0)
    library = Library.objects.create(code="bench", name="Bench")
    resource = Resource.objects.create(library=library, key="big", name="Big")
    data = make_file(rows)
    timings, cpu = [], []
    for _ in range(2):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = import_kbart(resource, data, "bench.txt", dry_run=False)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert report.ok and report.rows == rows, report.summary()
    assert KbartTitle.objects.filter(resource=resource).count() == rows
    # Reference: a bare INSERT of pre-built tuples (no parsing, no checks), same columns.
    KbartTitle.objects.all().delete()
    values = [
        (
            resource.pk,
            f"t{i}",
            issn(2 * i + 1),
            issn(2 * i + 2),
            f"j{i}",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        )
        for i in range(rows)
    ]
    table = KbartTitle._meta.db_table
    cols = "resource_id, publication_title, print_identifier, online_identifier, title_id, num_first_vol_online, num_last_vol_online, title_url, first_author, publisher_name, publication_type, coverage_depth"  # noqa: E501
    marks = ", ".join(["%s"] * 12)
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", values)  # noqa: S608
    reference = time.perf_counter() - start
    print(
        f"{connection.vendor}\t{rows}\t{timings[0]:.2f}\t{timings[1]:.2f}\t{cpu[0]:.2f}\t{reference:.2f}",
        flush=True,
    )


def main(argv: list[str]) -> int:
    rows = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--rows=")), 100_000)
    results = on_each_database(
        lambda url: run_child("bench.kbart", [str(rows)], url, timeout=600),
        PG_DB,
        postgres="--sqlite-only" not in argv,
    )
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"  # noqa: E501
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        "| database | rows | import (s) | re-import (s) | import CPU (s) | bare INSERT (s) | import / bare INSERT | ≤ 10 s |"  # noqa: E501
    )
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for line in results:
        vendor, n, first, second, cpu, ref = line.split("\t")
        worst = max(float(first), float(second))
        ok &= worst <= TARGET_SECONDS
        verdict = "yes" if worst <= TARGET_SECONDS else "NO"
        print(
            f"| {vendor} | {int(n):,} | {first} | {second} | {cpu} | {ref} | {worst / float(ref):.1f}× | {verdict} |"  # noqa: E501
        )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        sys.exit(main(sys.argv[1:]))
