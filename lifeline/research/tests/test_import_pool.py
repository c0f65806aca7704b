"""A large WoS plain-text export parsed by worker processes while the import merges: the same
records, line numbers and outcome as the whole-file parse; a defect anywhere still names its
line and writes nothing; a second run merges everything."""

from __future__ import annotations

import json
import re

import pytest

from lifeline.core.models import Library
from lifeline.research.logic import importer, wos, wospool
from lifeline.research.logic.bulkwrite import NewRecord, dump_counts, dump_strs
from lifeline.research.logic.records import ParseError, decode
from lifeline.research.models import AffiliationVariant, BiblioRecord, CitedRef
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
    records = list(wos.parse_plain_lines(text))
    assert any(rec.references and rec.cited_dois for rec in records)
    assert got == wospool.prepared(records)


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


def with_repeats(records: int, every: int) -> str:
    """`export(records)` where every `every`-th record first comes without its DOI and comes
    again at the end (a later piece) with it and 99 times cited: the file merges into itself."""
    text = export(records)
    head, body = text.split("\nVR 1.0\n", 1)
    blocks = body.removesuffix("EF\n").split("\nER\n")[:-1]
    again = []
    for i in range(0, records, every):
        again.append(re.sub(r"(?m)^TC .*$", "TC 99", blocks[i]))
        blocks[i] = re.sub(r"(?m)^DI .*\n", "", blocks[i])
    return head + "\nVR 1.0\n" + "".join(b + "\nER\n" for b in blocks + again) + "EF\n"


def stored(library: Library) -> list[tuple[object, ...]]:
    fields = [
        f.name for f in BiblioRecord._meta.fields if f.name not in ("id", "library", "created_at")
    ]
    rows = BiblioRecord.objects.filter(library=library).order_by("wos_ut").values_list(*fields)
    cited = CitedRef.objects.filter(library=library).values_list("citing__wos_ut", "doi")
    return [*rows, *sorted(cited)]


@pytest.mark.usefixtures("small_pieces")
def test_a_file_that_merges_into_itself_gives_what_the_line_parse_gives(
    library_a: Library, library_b: Library
) -> None:
    """Rows made ready by the workers, some of them merged into by a later piece (the DOI and
    the figure it adds), with the library's own affiliations marked: the same records, cited
    links and flags as the whole file read line by line and merged in-process."""
    text = with_repeats(240, 8)
    batches = wospool.parse_parallel(text)
    assert batches is not None and sum(map(len, batches)) == 270  # the workers read it all
    for library in (library_a, library_b):
        AffiliationVariant.objects.create(library=library, variant="USA", canonical="USA")
    result = importer.import_records(library_a, text.encode())
    assert (result.created, result.merged) == (240, 30)
    lined = importer.write_records(library_b, list(wos.parse_plain_lines(text)), "wos")
    assert (lined.created, lined.merged) == (240, 30)
    assert stored(library_a) == stored(library_b)
    rec = BiblioRecord.objects.get(library=library_a, wos_ut="000000000000016")
    assert (rec.doi, rec.times_cited) == ("10.9999/pool.16", {"wos": 99})
    assert BiblioRecord.objects.filter(library=library_a, is_ours=True).count() > 10
    assert CitedRef.objects.filter(library=library_a).exists()
    again = importer.import_records(library_a, text.encode())
    assert (again.created, again.merged) == (0, 270)
    assert stored(library_a) == stored(library_b)


def test_a_merged_row_comes_back_as_it_was_made() -> None:
    """A row made ready, read back for a merge and made again, is the same row."""
    records = list(wos.parse_plain_lines(export(20)))
    for row, *_rest in wospool.prepared(records, ["usa"]):
        assert NewRecord.from_row(row).row() == row


def test_a_worker_that_dies_is_unusual_not_a_wait_for_ever() -> None:
    """multiprocessing.Pool would wait for a dead worker's piece for ever, with the import's
    transaction open; the executor breaks, and the importer reads the file itself."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from lifeline.research.tests.dying_worker import die

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    batches = wospool._results(pool, die, [("", 1, ()), ("", 2, ())])
    with pytest.raises(wospool.Unusual):
        next(batches)
