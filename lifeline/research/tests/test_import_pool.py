"""A large WoS plain-text export parsed by worker processes while the import merges: the same
records, line numbers and outcome as the whole-file parse; a defect anywhere still names its
line and writes nothing; a second run merges everything."""

from __future__ import annotations

import json
import re

import pytest

from lifeline.core.models import Library
from lifeline.research.logic import importer, wos, wospool
from lifeline.research.logic.bulkwrite import dump_counts, dump_strs
from lifeline.research.logic.records import ParseError, decode
from lifeline.research.models import BiblioRecord
from lifeline.research.tests.conftest import DATA


def export(records: int) -> str:
    """`records` distinct records from the 100 of the tethne sample (cited references, several
    authors, continuation lines), each with its own UT, DOI and title."""
    text = decode((DATA / "wos-plaintext-tethne.txt").read_bytes()).lstrip("\ufeff")
    body = text[text.index("PT ") : text.rindex("\nEF")] + "\n"
    blocks = [b.strip("\n") + "\nER\n" for b in body.split("\nER\n") if b.strip()]
    out = ["FN Clarivate Analytics Web of Science\nVR 1.0\n"]
    for i in range(records):
        block = re.sub(r"(?m)^UT .*$", f"UT WOS:{i:015d}", blocks[i % len(blocks)])
        block = re.sub(r"(?m)^DI .*$", f"DI 10.9999/pool.{i}", block)
        out.append(re.sub(r"(?m)^TI (.*)$", rf"TI \1 ({i})", block, count=1) + "\n")
    return "".join(out) + "EF\n"


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any file, in pieces of a few records (the defaults take 16 MB and more)."""
    monkeypatch.setattr(wospool, "MIN_CHARS", 0)
    monkeypatch.setattr(wospool, "PIECE_CHARS", 20_000)


def test_json_of_lists_and_counts_is_json_dumps() -> None:
    for strs in ([], ["a"], ["Zhang, San", "谢 进", 'a"b\\c\n\x01', "\U0001f600x"]):
        assert dump_strs(strs) == json.dumps(strs)
    for counts in ({}, {"wos": 3}, {"wos": 3, "scopus": 0}):
        assert dump_counts(counts) == json.dumps(counts)


def test_pieces_cover_the_text_at_record_boundaries() -> None:
    text = export(120)
    parts = wospool.pieces(text, 10_000)
    assert len(parts) > 5
    assert "".join(p for p, _line in parts) == text
    for part, line in parts:
        assert text.count("\n", 0, text.index(part)) + 1 == line
        assert part.lstrip("\n").startswith(("FN ", "PT "))


@pytest.mark.usefixtures("small_pieces")
def test_workers_give_the_whole_file_parse() -> None:
    text = export(250)
    batches = wospool.parse_parallel(text)
    assert batches is not None
    got = [parsed for batch in batches for parsed in batch]
    assert len(got) == 250
    whole = wospool.prepared(list(wos.parse_plain_lines(text)))
    assert any(rec.references and rec.cited_dois for rec, _key, _authors in whole)
    for rec, _key, _authors in whole:
        rec.references = []  # not sent back: the import keeps only the DOIs they name
    assert got == whole


@pytest.mark.usefixtures("small_pieces")
def test_parallel_import_then_again_merges(library_a: Library) -> None:
    data = export(300).encode()
    first = importer.import_records(library_a, data)
    assert (first.created, first.merged) == (300, 0)
    again = importer.import_records(library_a, data)
    assert (again.created, again.merged) == (0, 300)
    assert BiblioRecord.objects.filter(library=library_a).count() == 300
    rec = BiblioRecord.objects.get(library=library_a, wos_ut="000000000000007")
    assert rec.authors and rec.author_keys and rec.match_key.endswith(rec.author_keys[0])


@pytest.mark.usefixtures("small_pieces")
def test_a_defect_late_in_the_file_names_its_line_and_writes_nothing(
    library_a: Library,
) -> None:
    text = export(300)
    at = text.index("\nTI ", len(text) * 9 // 10)
    broken = text[:at] + "\n TI shifted by one space" + text[at:]
    line = text.count("\n", 0, at) + 2
    with pytest.raises(ParseError) as caught:
        importer.import_records(library_a, broken.encode())
    assert caught.value.line == line
    assert not BiblioRecord.objects.filter(library=library_a).exists()
    assert importer.import_records(library_a, text.encode()).created == 300
