"""A large Web of Science plain-text export parsed by worker processes while the import writes.

The parse is half of an import's CPU (a million records: some 40 s of Python), and the import
itself is one transaction in one process. So the text is cut at record boundaries into pieces
that worker processes read with the fast path (`wos._parse_plain_fast`), computing each
record's match key and author keys too; the importer takes the pieces in file order as they
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
from collections.abc import Generator
from typing import Any

from lifeline.research.logic import wos
from lifeline.research.logic.records import Record, match_key, normalise_name

# (record, match key, normalised authors): what the importer needs of each record
Parsed = tuple[Record, str, list[str]]

MIN_CHARS = 16 * 2**20  # below this a file is parsed in-process (starting workers costs more)
PIECE_CHARS = 4 * 2**20  # ~2,500 full records: small enough to overlap, large enough to batch


class Unusual(Exception):
    """A piece the fast path would not read: parse the whole file line by line instead."""


def prepared(records: list[Record]) -> list[Parsed]:
    """Each record with its match key and normalised author names."""
    return [(r, match_key(r), [normalise_name(a) for a in r.authors]) for r in records]


def parse_piece(job: tuple[str, int]) -> list[Parsed] | None:
    """In a worker: the records of one piece (the text from a record's first line on)."""
    text, first_line = job
    records = wos._parse_plain_fast(text, first_line)
    if records is None:
        return None
    for rec in records:
        # the import keeps the DOIs they name (`cited_dois`), not the references' text: most of
        # a full record's bytes, sent back and unpickled for nothing
        rec.references = []
    return prepared(records)


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


def parse_parallel(text: str) -> Generator[list[Parsed]] | None:
    """The records of a well-formed export, piece by piece in file order, parsed by worker
    processes; None when the text is too small to gain from it, or no process may be started
    (a daemonic process). Raises `Unusual` (while iterating) for a piece the fast path would
    not read. `text` is decoded, with "\\n" line ends and no BOM."""
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
        pool: Any = context.Pool(min(workers(), len(jobs)))
    except (AssertionError, OSError, ValueError):
        return None
    return _results(pool, jobs)


def _results(pool: Any, jobs: list[tuple[str, int]]) -> Generator[list[Parsed]]:
    with pool:
        for batch in pool.imap(parse_piece, jobs):
            if batch is None:
                raise Unusual
            yield batch
