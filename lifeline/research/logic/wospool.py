"""A large Web of Science plain-text export parsed by worker processes while the import writes.

The parse is half of an import's CPU (a million records: some 40 s of Python), and the import
itself is one transaction in one process. So the text is cut at record boundaries into pieces
that worker processes read with the fast path (`wos._parse_plain_fast`), making each record's
row ready too (`item`: its JSON, match key, author keys, whether it is the library's own);
the importer takes the pieces in file order as they
come back and merges them while the workers read the next ones. The records, their order and
their line numbers are the ones the whole-file parse gives (tested). Anything unusual in a
piece (what sends the fast path to the line parser) stops this way: the importer then reads
the whole file line by line, which names the defect's line.

The workers are started by "forkserver", not "fork": the import may run in a threaded process
(a web or job worker), and the workers need no Django, only `re` and `str` (they never touch
the database, so the import's transaction is only ever the importer's).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

try:  # the C function json.dumps itself uses for a str
    from _json import encode_basestring_ascii as _quote
except ImportError:  # pragma: no cover - CPython has it
    from json.encoder import py_encode_basestring_ascii as _quote

from lifeline.research.logic import wos
from lifeline.research.logic.records import Record, match_key, normalise_name

# What the importer needs of each record, made ready where it is parsed (in a worker for a large
# export): the row it writes if the record is new (`row`), then the match key and identifiers it
# looks up, the database and times-cited figure a merge adds, and the DOIs the record cites.
# Plain tuples of str: a fifth of the import process's CPU went to unpickling `Record`s and
# building their rows and JSON (a million records: ~25 s), now done on the workers' core.
Row = tuple[Any, ...]
Item = tuple[Row, str, str, str, str, str, int | None, list[str]]
# positions in a `Row` (`bulkwrite.COLUMNS` without id, library_id and created_at)
R_JOURNAL, R_ISSN, R_VOLUME, R_ISSUE, R_PAGES, R_DOCTYPE, R_AFFILIATIONS, R_OURS = (
    5,
    6,
    7,
    8,
    9,
    13,
    16,
    17,
)


def dump_strs(values: list[str]) -> str:
    """`json.dumps(values)` for a list of strings, byte for byte: json.dumps goes through the
    Python layer of its encoder (5 µs a call; five calls a record were a fifth of an import's
    CPU), this is one C call a string and a join."""
    return "[" + ", ".join(map(_quote, values)) + "]"


def dump_counts(values: dict[str, int]) -> str:
    """`json.dumps(values)` for a dict of str to int (times cited per database)."""
    return "{" + ", ".join(f"{_quote(k)}: {int(v)}" for k, v in values.items()) + "}"


def is_ours(affiliations: list[str], variants: Sequence[str]) -> bool:
    text = " ".join(affiliations).casefold()
    return any(v and v in text for v in variants)


def make_row(
    title: str,
    key: str,
    authors: list[str],
    author_keys: list[str],
    year: int | None,
    texts: tuple[str, str, str, str, str, str, str, str, str],
    sources: list[str],
    times_cited: dict[str, int],
    affiliations: list[str],
    ours: bool,
) -> Row:
    """A new record's row: `texts` are journal, ISSN, volume, issue, pages, DOI, WoS UT, Scopus
    EID and document type, each cut to its column here."""
    journal, issn, volume, issue, pages, doi, ut, eid, doc_type = texts
    return (
        title,
        key,
        dump_strs(authors),
        dump_strs(author_keys),
        year,
        journal[:500],
        issn[:40],
        volume[:40],
        issue[:40],
        pages[:40],
        doi[:300],
        ut[:40],
        eid[:40],
        doc_type[:100],
        dump_strs(sources),
        dump_counts(times_cited),
        dump_strs(affiliations),
        ours,
    )


def item(rec: Record, variants: Sequence[str]) -> Item:
    """What the importer needs of one record (`Item`); `variants` are the library's own
    affiliation names, casefolded (whether the paper is "ours")."""
    key = match_key(rec)
    row = make_row(
        rec.title,
        key[:400],
        rec.authors,
        [normalise_name(a) for a in rec.authors],
        rec.year,
        (
            rec.journal[:300],
            rec.issn,
            rec.volume,
            rec.issue,
            rec.pages,
            rec.doi,
            rec.wos_ut,
            rec.scopus_eid,
            rec.doc_type,
        ),
        [rec.source],
        {} if rec.times_cited is None else {rec.source: rec.times_cited},
        rec.affiliations,
        bool(variants) and is_ours(rec.affiliations, variants),
    )
    return (
        row,
        key,
        rec.doi,
        rec.wos_ut,
        rec.scopus_eid,
        rec.source,
        rec.times_cited,
        rec.cited_dois,
    )


MIN_CHARS = 16 * 2**20  # below this a file is parsed in-process (starting workers costs more)
PIECE_CHARS = 4 * 2**20  # ~2,500 full records: small enough to overlap, large enough to batch


class Unusual(Exception):
    """A piece the fast path would not read: parse the whole file line by line instead."""


def prepared(records: list[Record], variants: Sequence[str] = ()) -> list[Item]:
    """What the importer needs of each record (the references' text is not in it: only the
    DOIs they name are kept)."""
    return [item(r, variants) for r in records]


def parse_piece(job: tuple[str, int, tuple[str, ...]]) -> list[Item] | None:
    """In a worker: the records of one piece (the text from a record's first line on)."""
    text, first_line, variants = job
    records = wos._parse_plain_fast(text, first_line)
    if records is None:
        return None
    return prepared(records, variants)


def pieces(text: str, size: int = PIECE_CHARS) -> list[tuple[str, int]]:
    """The text cut after `ER` lines into pieces of about `size` characters, each with the
    number of its first line. Only before the first `EF` line (what follows it is the last
    piece's, as the whole-file parse ignores it)."""
    end = ("\n" + text).find("\nEF")
    end = len(text) if end < 0 else end
    cuts = [0]
    while True:
        cut = text.find("\nER\n", cuts[-1] + size, end)
        if cut < 0:
            break
        cuts.append(cut + 4)
    cuts.append(len(text))
    out: list[tuple[str, int]] = []
    line = 1
    for start, stop in itertools.pairwise(cuts):
        out.append((text[start:stop], line))
        line += text.count("\n", start, stop)
    return out


def workers() -> int:
    """Worker processes: one per core the process may use, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def parse_parallel(text: str, variants: Sequence[str] = ()) -> Generator[list[Item]] | None:
    """The records of a well-formed export, piece by piece in file order, parsed by worker
    processes; None when the text is too small to gain from it, or no process may be started
    (a daemonic process). Raises `Unusual` (while iterating) for a piece the fast path would
    not read. `text` is decoded, with "\\n" line ends and no BOM; `variants` as for `item`."""
    if len(text) < MIN_CHARS or "\r" in text or text.startswith("\ufeff"):
        return None
    jobs = pieces(text, PIECE_CHARS)
    if len(jobs) < 2:
        return None
    context = multiprocessing.get_context("forkserver")
    # the server imports this module once (not the program's main module), each worker forks
    # from it with the parser loaded
    context.set_forkserver_preload([__name__])
    try:
        pool = ProcessPoolExecutor(min(workers(), len(jobs)), mp_context=context)
    except (AssertionError, OSError, ValueError):
        return None
    return _results(pool, parse_piece, [(piece, line, tuple(variants)) for piece, line in jobs])


def _results(
    pool: ProcessPoolExecutor,
    parse: Callable[[tuple[str, int, tuple[str, ...]]], list[Item] | None],
    jobs: list[tuple[str, int, tuple[str, ...]]],
) -> Generator[list[Item]]:
    """The pieces' items in file order. A worker that dies, or cannot be started, is `Unusual`
    too: `multiprocessing.Pool` would have waited for its piece for ever, with the import's
    transaction open; the executor says so, and the importer reads the file itself."""
    try:
        for batch in pool.map(parse, jobs):
            if batch is None:
                raise Unusual
            yield batch
    except (BrokenProcessPool, OSError, AssertionError) as exc:  # AssertionError: a daemon
        raise Unusual from exc
    finally:
        # pieces not yet started are dropped; those in hand finish (at most one per worker)
        pool.shutdown(wait=True, cancel_futures=True)
