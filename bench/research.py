"""Web of Science plain-text import: N records parsed and written, against a bare line read.

    python -m bench research [--records=N] [--per-file=K] [--refs] [--sqlite-only | --pg-only]
                             [--once]

The records are the four of the shared sample `wos-plaintext-alldb-synthesisr.txt` (about 1.8
kB a record, no cited references: the "full record" export) repeated with distinct UTs, DOIs
and titles; `--refs` uses the 100 records of `wos-plaintext-tethne.txt` instead (6.3 kB a
record with its cited references, 31 of them naming a DOI, each stored as a cited link). They
come in files of at most K records (default 100,000: 169 MB, under the 200 MB an upload may be;
a million full records are 1.7 GB, so they are ten exports, each imported as the product
imports an upload: parsed whole, written in one transaction). Each database runs in a child
process on a fresh database (a temporary SQLite file; a scratch PostgreSQL database). Figures,
summed over the files (parse alone: the first file): a bare `for line in text.split("\\n")`
loop over the decoded text (the reference), decode + parse into records, the whole import
(decode, parse, dedupe lookups, bulk writes of records and cited references), and the same
files imported again (every record found and merged; `--once` leaves it out, to fit a run of a
million records of both databases into one hold of the bench lock). The machine is shared: the
ratios to the reference of the same run are the figures to compare. Target of issue 13:
1,000,000 records imported in <= 60 s. CPU: the import's own process (`process_time`), and on
PostgreSQL the server's backend too, and the processes that parse a large WoS export
(`wospool`) beside it. With LIFELINE_BENCH_CACHE set (a directory) the generated
files are kept there between runs; LIFELINE_BENCH_DATABASE_URL names the PostgreSQL database.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import sys
import time
from collections.abc import Iterator

from bench._common import (
    ROOT,
    bench_cache,
    bench_pg_name,
    on_each_database,
    option,
    run_child,
)

DATA = ROOT / "lifeline" / "research" / "tests" / "data" / "biblio"
SAMPLE = DATA / "wos-plaintext-alldb-synthesisr.txt"
WITH_REFS = DATA / "wos-plaintext-tethne.txt"
PG_DB = "lifeline_w13_bench_research"
TARGET_PER_MILLION = 60.0


def make_file(records: int, refs: bool = False, first: int = 0) -> bytes:
    text = (WITH_REFS if refs else SAMPLE).read_text(encoding="utf-8-sig")
    body = text[text.index("PT ") : text.rindex("\nEF")] + "\n"
    blocks = [b.strip("\n") + "\nER\n" for b in body.split("\nER\n") if b.strip()]
    out = ["FN Clarivate Analytics Web of Science\nVR 1.0\n"]
    for i in range(first, first + records):
        block = re.sub(r"(?m)^UT .*$", f"UT WOS:{i:015d}", blocks[i % len(blocks)])
        block = re.sub(r"(?m)^DI .*$", f"DI 10.9999/bench.{i}", block)
        # distinct titles too: the same title, year and first author is the same paper
        block = re.sub(r"(?m)^TI (.*)$", rf"TI \1 ({i})", block, count=1)
        out.append(block + "\n")
    out.append("EF\n")
    return "".join(out).encode("utf-8")


def cached_file(records: int, refs: bool, first: int = 0) -> bytes:
    path = bench_cache(f"research-wos-{first}-{records}{'-refs' if refs else ''}.txt")
    if path is not None and path.exists():
        return path.read_bytes()
    data = make_file(records, refs, first)
    if path is not None:
        path.with_suffix(".part").write_bytes(data)
        path.with_suffix(".part").replace(path)
    return data


def files(records: int, per_file: int, refs: bool) -> Iterator[bytes]:
    """The exports of `records` records, `per_file` at most each, one at a time in memory."""
    for first in range(0, records, per_file):
        yield cached_file(min(per_file, records - first), refs, first)


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 on SQLite, where the writes are
    in the import's own process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu() -> float:
    """CPU seconds of the parse workers that have ended (`wospool` starts them from
    multiprocessing's fork server, which reaps them: its children's time in /proc)."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if not pid:
        return 0.0
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def child(records: int, refs: bool, again: bool = True, per_file: int = 100_000) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from lifeline.core.models import Library
    from lifeline.research.logic.formats import parse_bytes
    from lifeline.research.logic.importer import import_records
    from lifeline.research.logic.records import decode
    from lifeline.research.models import BiblioRecord

    call_command("migrate", verbosity=0)
    library = Library.objects.create(code="bench", name="Bench")
    size = bare = parse = full = second = cpu = server = workers = 0.0
    for k, data in enumerate(files(records, per_file, refs)):
        size += len(data)
        start = time.perf_counter()
        n = 0
        for line in decode(data).split("\n"):
            n += len(line) > 0
        bare += time.perf_counter() - start
        if k == 0:  # parse alone: the first file (the ratio is per record)
            first_bare = bare
            start = time.perf_counter()
            fmt, parsed = parse_bytes(data)
            parse = time.perf_counter() - start
            assert fmt == "wos"
            del parsed
    created = 0
    for data in files(records, per_file, refs):
        start, cpu0, server0 = time.perf_counter(), time.process_time(), backend_cpu()
        workers0 = workers_cpu()
        created += import_records(library, data).created
        full += time.perf_counter() - start
        cpu += time.process_time() - cpu0
        server += backend_cpu() - server0
        workers += workers_cpu() - workers0
    assert created == records, created
    if again:
        merged = 0
        for data in files(records, per_file, refs):
            start = time.perf_counter()
            merged += import_records(library, data).merged
            second += time.perf_counter() - start
        assert merged == records, merged
    assert BiblioRecord.objects.count() == records
    mb = size / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # GB (Linux: kB)
    print(
        f"{connection.vendor}\t{records}\t{mb:.0f}\t{bare:.2f}\t{parse:.2f}\t{full:.2f}\t"
        f"{second:.2f}\t{cpu:.2f}\t{server:.2f}\t{peak:.1f}\t{parse / first_bare:.1f}\t"
        f"{workers:.2f}",
        flush=True,
    )


def main(argv: list[str]) -> int:
    records = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--records=")), 100_000)
    refs = "--refs" in argv
    per_file = option(argv, "per-file", 100_000)
    results = on_each_database(
        lambda url: run_child(
            "bench.research",
            [str(records), str(int(refs)), str(int("--once" not in argv)), str(per_file)],
            url,
        ),
        bench_pg_name(PG_DB),
        postgres="--sqlite-only" not in argv,
        sqlite="--pg-only" not in argv,
        echo=True,
    )
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(
        "| database | records | MB | bare line read (s) | import (s) | re-import (s) "
        "| parse / bare (first file) | import / bare | import s per 1,000,000 "
        "| import CPU (s): ours + parse workers + server "
        "| peak RSS (GB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for line in results:
        vendor, n, mb, bare, _parse, full, second, cpu, server, peak, ratio, workers = line.split(
            "\t"
        )
        per_million = float(full) / int(n) * 1_000_000
        ok &= per_million <= TARGET_PER_MILLION
        print(
            f"| {vendor} | {int(n):,} | {mb} | {bare} | {full} | {second} "
            f"| {ratio}× | {float(full) / float(bare):.1f}× "
            f"| {per_million:.0f} | {cpu} + {workers} + {server} | {peak} |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] != "0", int(sys.argv[5]))
    else:
        sys.exit(main(sys.argv[1:]))
