"""Subject analysis of a large institution and a 200-paper citation report (issue 13).

    python -m bench research_analysis [--papers=N] [--links=M] [--report=P]
                                      [--sqlite-only | --pg-only]

Generated data, written through the app's own import functions: N Web of Science records
(default 200,000; all the university's, with colleges, partners abroad, 3 authors each, times
cited skewed like real ones), M cited references among them (default 2,000,000: each record
cites M/N others by DOI), a JCR list, ESI journal list, baselines and thresholds in ESI's CSV
layout. Then, through the Django test client as a librarian, every analysis page: the page
itself (per year, ESI field, college, h-index, highly cited, collaborations, ESI standing),
with a year range, with a peer (one of the partners the page lists, precomputed after the
import), with a peer that is not listed (its first view is a pass over its papers) and a year
range of it, its XLSX and its PDF; each the first time after the import and again. Last, a
citation report of P papers (default 200) of the university is prepared and issued (signed
content and PDF) and timed. Each database runs in a child process on a fresh database.
Targets: every page <= 1 s, the report <= 5 s. The college, person (top authors' h-index),
collaboration and ESI standing figures are sections of the analysis page, so its time covers
them. With LIFELINE_BENCH_CACHE set (a directory), the database as the import left it is kept
(SQLite: a copy of the file there; PostgreSQL: a template database) and later runs with the
same sizes and generator start from it, migrated first (the import time is then the cached run's);
LIFELINE_BENCH_DATABASE_URL names the PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import platform
import random
import shutil
import sys
import time

from bench._common import (
    bench_cache,
    bench_pg_name,
    on_each_database,
    pg_admin,
    run_child,
)

PG_DB = "lifeline_w13_bench_analysis"
PAGE_TARGET = 1.0
REPORT_TARGET = 5.0
JOURNALS = 400
FIELDS = (
    "AGRICULTURAL SCIENCES",
    "PLANT & ANIMAL SCIENCE",
    "ENVIRONMENT/ECOLOGY",
    "ENGINEERING",
    "MATERIALS SCIENCE",
    "CHEMISTRY",
    "BIOLOGY & BIOCHEMISTRY",
    "COMPUTER SCIENCE",
)
COLLEGES = (
    "Coll Forestry",
    "Coll Wildlife Resources",
    "Coll Mat Sci & Engn",
    "Coll Life Sci",
    "Coll Chem Chem Engn & Resource Utilizat",
    "Sch Comp & Informat Engn",
)
PARTNERS = (
    ("Oregon State Univ", "Corvallis, OR 97331 USA"),
    ("Univ British Columbia", "Vancouver, BC V6T 1Z4, Canada"),
    ("Beijing Forestry Univ", "Beijing 100083, Peoples R China"),
    ("Swedish Univ Agr Sci", "S-90183 Umea, Sweden"),
    ("Univ Helsinki", "FI-00014 Helsinki, Finland"),
    ("Chinese Acad Forestry", "Beijing 100091, Peoples R China"),
)
FAMILY = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun")


def journal(j: int) -> tuple[str, str]:
    return f"JOURNAL OF BENCH STUDIES {j}", f"{1000 + j:04d}-{j % 1000:03d}X"


def wos_file(papers: int, links: int, seed: int = 13) -> bytes:
    rnd = random.Random(seed)
    per = max(0, links // papers)
    out = ["FN Clarivate Analytics Web of Science\nVR 1.0\n"]
    for i in range(papers):
        year = 2010 + i % 11
        title, issn = journal(rnd.randrange(JOURNALS))
        authors = [
            f"{FAMILY[rnd.randrange(len(FAMILY))]}, {chr(65 + rnd.randrange(26))}{a}"
            for a in (rnd.randrange(3000) for _ in range(3))
        ]
        college = COLLEGES[i % len(COLLEGES)]
        partner, where = PARTNERS[rnd.randrange(len(PARTNERS))]
        cited = int(rnd.paretovariate(1.3)) - 1
        refs = "\n   ".join(
            f"Bench A, {year - 1}, J BENCH, V1, P1, DOI 10.9999/an.{rnd.randrange(papers)}"
            for _ in range(per)
        )
        out.append(
            "PT J\n"
            f"AU {authors[0]}\n   {authors[1]}\n   {authors[2]}\n"
            f"TI Analysis of bench forest stand {i}\n"
            f"SO {title}\nSN {issn}\nPY {year}\nVL {i % 40}\nBP {i % 300}\n"
            f"C1 [{authors[0]}] Northeast Forestry Univ, {college}, Harbin 150040, "
            "Peoples R China.\n"
            f"   [{authors[2]}] {partner}, Dept Forestry, {where}.\n"
            + (f"CR {refs}\n" if refs else "")
            + f"TC {cited}\nDI 10.9999/an.{i}\nUT WOS:{i:015d}\nER\n\n"
        )
    out.append("EF\n")
    return "".join(out).encode()


def esi_files() -> dict[str, bytes]:
    years = list(range(2010, 2021))
    baselines = [
        '"Baselines - Percentiles"',
        '"Research Fields","Percentage",' + ",".join(f'"{y}"' for y in years),
    ]
    for f in FIELDS:
        baselines.append(f'"{f}","1.00%",' + ",".join(f'"{40 - (y - 2010) * 3}"' for y in years))
    thresholds = [
        '"ESI Thresholds"',
        '"Research Fields","Author","Institution","Journal","Country/Territory"',
    ]
    thresholds += [
        f'"{f}","400","{(k + 1) * 20000:,}","2,000","3,000"' for k, f in enumerate(FIELDS)
    ]
    journals = ['"Full title","Title29","Title20","ISSN","EISSN","Category name"']
    for j in range(JOURNALS):
        title, issn = journal(j)
        journals.append(f'"{title}","{title[:29]}","{title[:20]}","{issn}","","{FIELDS[j % 8]}"')
    return {
        "baselines": "\n".join(baselines).encode(),
        "thresholds": "\n".join(thresholds).encode(),
        "journals": "\n".join(journals).encode(),
    }


def cache_key(papers: int, links: int) -> str:
    """What the imported data depends on: sizes and the generator. Not the migrations: a kept
    database is migrated when restored (`_migrate_kept`), as a library's database is."""
    text = inspect.getsource(wos_file) + inspect.getsource(esi_files) + inspect.getsource(setup)
    return f"{papers}-{links}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def _migrate_kept(papers: int, links: int, line: str) -> None:
    """Apply the migrations the kept database lacks (an index added since it was kept), and
    keep it again so that the next run does not pay for them."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0)
        _keep(papers, links, line)


def _restore(papers: int, links: int) -> str | None:
    """Put the cached database in place before Django connects; its timings line, or None."""
    url = os.environ["LIFELINE_DATABASE_URL"]
    key = cache_key(papers, links)
    if url.startswith("sqlite"):
        path = bench_cache(f"research-analysis-{key}.sqlite3")
        if path is None or not path.exists():
            return None
        shutil.copyfile(path, url.removeprefix("sqlite:///"))
        return path.with_suffix(".txt").read_text()
    path = bench_cache(f"research-analysis-{key}.pg.txt")
    if path is None or not path.exists():
        return None
    name = url.rsplit("/", 1)[-1]
    pg_admin(f"DROP DATABASE IF EXISTS {name}")
    pg_admin(f"CREATE DATABASE {name} TEMPLATE {name}_{key.replace('-', '_')}")
    return path.read_text()


def _keep(papers: int, links: int, line: str) -> None:
    """Keep the database as the import left it (before the figures are computed)."""
    from django.db import connection

    key = cache_key(papers, links)
    url = os.environ["LIFELINE_DATABASE_URL"]
    if url.startswith("sqlite"):
        path = bench_cache(f"research-analysis-{key}.sqlite3")
        if path is None:
            return
        connection.close()  # WAL checkpointed: the file is the whole database
        shutil.copyfile(url.removeprefix("sqlite:///"), path.with_suffix(".part"))
        path.with_suffix(".part").replace(path)
        path.with_suffix(".txt").write_text(line)
        return
    path = bench_cache(f"research-analysis-{key}.pg.txt")
    if path is None:
        return
    connection.close()
    name = url.rsplit("/", 1)[-1]
    copy = f"{name}_{key.replace('-', '_')}"
    pg_admin(f"DROP DATABASE IF EXISTS {copy}")
    pg_admin(f"CREATE DATABASE {copy} TEMPLATE {name}")
    path.write_text(line)


def setup(papers: int, links: int) -> str:
    """Library, librarians, variants, ESI and JCR lists, the import: its time and links."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from lifeline.core.choices import Role
    from lifeline.core.models import Library, Membership
    from lifeline.research.choices import ListKind
    from lifeline.research.logic import esi, importer
    from lifeline.research.models import AffiliationVariant, CitedRef

    call_command("migrate", verbosity=0)
    library = Library.objects.create(code="bench", name="Northeast Forestry University")
    for name in ("prep", "review"):
        user = get_user_model().objects.create_user(name)
        Membership.objects.create(user=user, library=library, role=Role.ADMIN)
    variants = [("Northeast Forestry Univ", "Northeast Forestry University")]
    variants += [(c, c.replace("Coll ", "College of ")) for c in COLLEGES]
    AffiliationVariant.objects.bulk_create(
        AffiliationVariant(library=library, variant=v, canonical=c) for v, c in variants
    )
    for data in esi_files().values():
        esi.import_esi(library, "2020-09", data)
    jcr = "\n".join(
        ["Full Journal Title,ISSN,JIF Quartile,Journal Impact Factor"]
        + [f"{journal(j)[0]},{journal(j)[1]},Q{1 + j % 4},{j % 7}.5" for j in range(JOURNALS)]
    ).encode()
    for year in range(2010, 2021):
        importer.import_journal_list(library, ListKind.JCR, year, jcr)
    data = wos_file(papers, links)
    start = time.perf_counter()
    result = importer.import_records(library, data)
    imported = time.perf_counter() - start
    assert result.created == papers, result
    return f"{imported:.1f}\t{CitedRef.objects.count()}"


def child(papers: int, links: int, report: int) -> None:
    kept = _restore(papers, links)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from lifeline.core.models import Library
    from lifeline.research.logic import citation, subject
    from lifeline.research.models import VerificationRequest

    setup_test_environment()
    if kept is None:
        kept = setup(papers, links)
        _keep(papers, links, kept)
    else:
        _migrate_kept(papers, links, kept)
    imported, n_links = kept.split("\t")
    library = Library.objects.get(code="bench")
    users = [get_user_model().objects.get(username=n) for n in ("prep", "review")]
    start = time.perf_counter()
    subject.precompute(library)
    precomputed = time.perf_counter() - start
    client = Client()
    client.force_login(users[0])
    base = f"/research/{library.code}/analysis/"
    # a server that has served a page: the first request of a process imports half of Django
    assert client.get(f"/research/{library.code}/queue/").status_code == 200
    pages = [
        ("analysis page", base),
        ("analysis, 2015-2018", base + "?year_from=2015&year_to=2018"),
        ("analysis with a peer", base + "?peers=Oregon+State+Univ"),
        # not a listed partner (a city in one partner's addresses): its first view is a pass
        ("analysis with a peer not listed", base + "?peers=Umea"),
        ("that peer, 2012-2014", base + "?peers=Umea&year_from=2012&year_to=2014"),
        ("XLSX", base + "xlsx/"),
        ("PDF", base + "pdf/"),
    ]
    timings = []
    for label, url in pages:
        row = []
        for _ in range(2):
            start = time.perf_counter()
            response = client.get(url)
            row.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        timings.append(f"{label}={row[0]:.3f}/{row[1]:.3f}")
    # a citation report of `report` of the university's papers, with their citing papers
    dois = "\n".join(f"10.9999/an.{i}" for i in range(0, papers, max(1, papers // report)))[
        :100_000
    ]
    req = VerificationRequest.objects.create(
        library=library,
        patron=users[0],
        patron_name="Bench",
        purpose="promotion",
        databases=["wos"],
        papers_text="\n".join(dois.splitlines()[:report]),
    )
    citation.prepare(req, users[0])
    start = time.perf_counter()
    pdf = citation.issue(req, users[1])
    issued = time.perf_counter() - start
    req.refresh_from_db()
    cites = sum(len(p.get("citing", [])) for p in req.content["papers"])
    print(
        f"{connection.vendor}\t{papers}\t{n_links}\t{imported}\t{precomputed:.2f}\t"
        f"{';'.join(timings)}\t{len(req.content['papers'])}\t{cites}\t{issued:.2f}\t"
        f"{len(pdf) // 1024}",
        flush=True,
    )


def main(argv: list[str]) -> int:
    def opt(name: str, default: int) -> int:
        return next((int(a.split("=", 1)[1]) for a in argv if a.startswith(f"--{name}=")), default)

    papers, links, report = opt("papers", 200_000), opt("links", 2_000_000), opt("report", 200)
    results = on_each_database(
        lambda url: run_child(
            "bench.research_analysis", [str(papers), str(links), str(report)], url, timeout=3000
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
    ok = True
    for line in results:
        vendor, n, n_links, imported, pre, timings, rp, cites, issued, kb = line.split("\t")
        print(
            f"\n{vendor}: {int(n):,} papers, {int(n_links):,} citing links; import {imported} s, "
            f"precompute {pre} s"
        )
        print("| page | first after import (s) | again (s) |\n|---|---|---|")
        for item in timings.split(";"):
            label, pair = item.split("=")
            first, again = pair.split("/")
            ok &= max(float(first), float(again)) <= PAGE_TARGET
            print(f"| {label} | {first} | {again} |")
        ok &= float(issued) <= REPORT_TARGET
        print(
            f"citation report: {rp} papers, {cites} citing papers listed, "
            + f"issued in {issued} s ({kb} KB PDF)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main(sys.argv[1:]))
