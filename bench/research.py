"""Web of Science plain-text parsing: N records, against a bare line read of the same text.

    python -m bench research [--records=N]

The file is the four records of the shared sample `wos-plaintext-alldb-synthesisr.txt` (about
1.8 kB a record) repeated with distinct UTs. Figures: decode + parse into records (what the import
does before writing), a bare `for line in text.split("\\n")` loop over the same text as the
reference, and their ratio (the shared machine is noisy: the ratio is the figure to compare).
Writing to the database is not measured here. Target of issue 13: 1,000,000 records in <= 60 s.
"""

from __future__ import annotations

import os
import re
import time

from bench._common import ROOT, option

SAMPLE = (
    ROOT
    / "lifeline"
    / "research"
    / "tests"
    / "data"
    / "biblio"
    / "wos-plaintext-alldb-synthesisr.txt"
)


def make_file(records: int) -> bytes:
    text = SAMPLE.read_text(encoding="utf-8")
    body = text[text.index("PT ") : text.rindex("\nEF")] + "\n"
    blocks = [b + "ER\n" for b in body.split("ER\n") if b.strip()]
    out = ["FN Clarivate Analytics Web of Science\nVR 1.0\n"]
    for i in range(records):
        block = blocks[i % len(blocks)]
        out.append(re.sub(r"(?m)^UT .*$", f"UT WOS:{i:015d}", block) + "\n")
    out.append("EF\n")
    return "".join(out).encode("utf-8")


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifeline.settings")
    import django

    django.setup()
    from lifeline.research.logic.formats import parse_bytes
    from lifeline.research.logic.records import decode

    records = option(argv, "records", 100_000)
    data = make_file(records)
    start = time.perf_counter()
    text = decode(data)
    n = 0
    for line in text.split("\n"):
        n += len(line) > 0
    bare = time.perf_counter() - start
    start = time.perf_counter()
    fmt, parsed = parse_bytes(data)
    full = time.perf_counter() - start
    assert fmt == "wos" and len(parsed) == records
    per_million = full / records * 1_000_000
    print(
        f"{records:,} WoS records, {len(data) / 2**20:.0f} MB: parse {full:.2f} s, "
        f"bare line read {bare:.2f} s, ratio {full / bare:.1f}; "
        f"{per_million:.0f} s per 1,000,000 records (target 60 s, parse only)"
    )
    return 0 if per_million <= 60 else 1
