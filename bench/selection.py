"""Cloud book selection (issue 12): a 200,000-record MARC catalogue, and the exact selection
over 200,000 candidate titles and 30 budgets.

    python -m bench selection [--records=200000] [--candidates=200000] [--budgets=30]
    python -m bench selection --browse=1 [--votes=1] [--records=200000] [--seconds=20]
    python -m bench selection --votes=1 [--patrons=2000] [--threads=16]

Import: `services.import_catalogue` (read with pymarc, normalise, write in one transaction,
mark every line against the holdings) on a scratch SQLite database, or on PostgreSQL when
LIFELINE_BENCH_DATABASE_URL is set (that database is dropped and created afresh). Reference in
the same run: pymarc's bare read of the same bytes (MARCReader over the file, nothing else).
Targets: import ≤ 30 s; selection ≤ 5 s.
"""

from __future__ import annotations

import io
import os
import platform
import random
import sys
import time

from bench._common import option, scratch_django


def catalogue(n: int, seed: int = 12) -> bytes:
    """n CNMARC records in ISO 2709, UTF-8 (the shape of the dp2 sample records)."""
    import pymarc

    from lifeline.registry.io.identifiers import isbn13_check_digit

    rng = random.Random(seed)
    out = io.BytesIO()
    classes = "ABCDEFGHIKNOPQRSTUVXZ"
    for i in range(n):
        body = f"9787{i:08d}"
        record = pymarc.Record(force_utf8=True, leader="00000nam0 2200000   450 ")
        record.add_field(
            pymarc.Field(tag="001", data=f"V{i}"),
            pymarc.Field(
                tag="010",
                indicators=pymarc.Indicators(" ", " "),
                subfields=[
                    pymarc.Subfield("a", body + isbn13_check_digit(body)),
                    pymarc.Subfield("d", f"CNY{rng.randint(20, 150)}.00"),
                ],
            ),
            pymarc.Field(
                tag="200",
                indicators=pymarc.Indicators("1", " "),
                subfields=[
                    pymarc.Subfield("a", f"森林生态学研究第{i}卷"),
                    pymarc.Subfield("f", f"作者{i % 5000}著"),
                ],
            ),
            pymarc.Field(
                tag="210",
                indicators=pymarc.Indicators(" ", " "),
                subfields=[pymarc.Subfield("c", "中国林业出版社"), pymarc.Subfield("d", "2020")],
            ),
            pymarc.Field(
                tag="690",
                indicators=pymarc.Indicators(" ", " "),
                subfields=[pymarc.Subfield("a", f"{rng.choice(classes)}{rng.randint(1, 99)}")],
            ),
        )
        out.write(record.as_marc())
    return out.getvalue()


def bare_read(data: bytes) -> int:
    import pymarc

    return sum(1 for r in pymarc.MARCReader(io.BytesIO(data), force_utf8=True) if r is not None)


def selection(n: int, budgets: int) -> None:
    from lifeline.selection.logic import knapsack

    rng = random.Random(7)
    items = [
        knapsack.Item(
            str(i), float(rng.randint(20, 150) * rng.choice([1, 1, 2])), rng.randint(1, 12)
        )
        for i in range(n)
    ]
    group = [rng.randrange(budgets - 1) for _ in range(n)]
    total = sum(it.cost for it in items)
    limits = [knapsack.Limit("all", total * 0.2)]
    for b in range(budgets - 1):
        members = [i for i in range(n) if group[i] == b]
        limits.append(knapsack.Limit(str(b), sum(items[i].cost for i in members) * 0.25, members))
    t = time.perf_counter()
    chosen, status = knapsack.solve(items, limits)
    exact = time.perf_counter() - t
    t = time.perf_counter()
    greedy = knapsack.greedy(items, limits)
    ref = time.perf_counter() - t
    e, g = knapsack.value(items, chosen), knapsack.value(items, greedy)
    print(
        f"selection: {n} candidates, {budgets} budgets: exact {exact:.2f} s ({status}), "
        f"votes-first greedy {ref:.2f} s; demand met exact {e[0]} vs greedy {g[0]} "
        f"(+{(e[0] - g[0]) / g[0]:.2%}), spend {e[1]:.0f} vs {g[1]:.0f}"
    )


def main(argv: list[str]) -> int:
    if option(argv, "browse", 0) or option(argv, "votes", 0):
        from bench._selection_http import http_main

        return http_main(argv)
    records = option(argv, "records", 200_000)
    candidates = option(argv, "candidates", 200_000)
    budgets = option(argv, "budgets", 30)
    url = os.environ.get("LIFELINE_BENCH_DATABASE_URL", "")
    if url:
        from bench._server import fresh_postgres

        fresh_postgres(url)  # dropped and created afresh, as the HTTP bench does
        os.environ.update(
            LIFELINE_DATABASE_URL=url,
            LIFELINE_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="lifeline.settings",
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
    else:
        scratch_django("selection")
    from django.db import connection

    from lifeline.core.models import Library
    from lifeline.selection import services

    print(f"machine: {platform.node()} {os.cpu_count()} cpu, Python {sys.version.split()[0]}")
    t = time.perf_counter()
    data = catalogue(records)
    made = time.perf_counter() - t
    print(f"generated {records} CNMARC records, {len(data) / 2**20:.1f} MB, in {made:.1f} s")
    t = time.perf_counter()
    count = bare_read(data)
    bare = time.perf_counter() - t
    library, _created = Library.objects.get_or_create(code="bench", defaults={"name": "bench"})
    from lifeline.selection.models import Catalogue

    Catalogue.objects.filter(library=library).delete()
    t = time.perf_counter()
    result = services.import_catalogue(library, data, name="bench", flavour="unimarc")
    full = time.perf_counter() - t
    print(
        f"import on {connection.vendor}: {result.lines} records in {full:.1f} s "
        f"(pymarc bare read of the same bytes: {count} records in {bare:.1f} s; "
        f"import / bare read = {full / bare:.2f})"
    )
    selection(candidates, budgets)
    return 0
