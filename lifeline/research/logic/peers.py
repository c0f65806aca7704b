"""The papers of a unit for subject analysis (`subject`): the university's by their flag, a
peer's found by its name in the affiliations, case folded as Python folds it. SQL narrows a
peer's rows first wherever that is safe (on PostgreSQL through a trigram index and a partial
index, migration 0005) and Python checks them as the definition says.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import connection

from lifeline.core.models import Library
from lifeline.research.models import BiblioRecord

# Characters outside ASCII whose case folding (Python's `str.casefold`) holds an ASCII letter
# ("ß" -> "ss", the Kelvin sign -> "k", "ﬁ" -> "fi"): an address holding one may contain a
# peer's name once folded while SQL's case-insensitive LIKE does not find it there, so a row
# with one is always read and checked in Python. Escapes, not the characters: an editor or a
# terminal turns the Kelvin sign into a plain K. PostgreSQL keeps a partial index of the rows
# with one (migration 0005, the same regular expression; a test checks both).
FOLDS_TO_ASCII = (
    "\u00df\u0130\u0149\u017f\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u1e9e\u212a"
    "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
)
FOLDS_TO_ASCII_SQL = f"(affiliations)::text ~ '[{FOLDS_TO_ASCII}]'"
# Unicode categories whose characters have no case and are made by no other character's case
# folding (a test checks every code point): letters of scripts without case (CJK, kana),
# digits, punctuation, symbols. A name of these and printable ASCII is found by SQL's LIKE.
CASELESS = frozenset({"Lo", "Nd", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk"})


def _sql_findable(needle: str) -> bool:
    """Whether SQL's case-insensitive LIKE finds every address that holds `needle` (a peer's
    name, case-folded) once folded, bar the addresses with a FOLDS_TO_ASCII character: each
    character printable ASCII (LIKE folds its case as Python does) or caseless."""
    return all(" " <= c <= "~" or unicodedata.category(c) in CASELESS for c in needle)


Row = tuple[int | None, str, str, list[str], list[str], dict[str, int], list[str]]


def _like(needle: str, *, ascii_json: bool) -> str:
    """A LIKE pattern finding `needle` anywhere in an affiliation list's JSON text: written
    as the JSON writes it (quotes and backslashes escaped; on SQLite every non-ASCII
    character as \\u and four hex digits), with LIKE's wildcards escaped by `\\`."""
    text = json.dumps(needle, ensure_ascii=ascii_json)[1:-1]
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def rows_sql(library: Library, peer: str = "") -> tuple[str, list[Any]]:
    """The statement of `unit_rows` and its parameters (a test explains its plan)."""
    table = connection.ops.quote_name(BiblioRecord._meta.db_table)
    authors = "NULL, NULL" if peer else "authors, author_keys"
    sql = (
        f"SELECT year, journal, issn, {authors}, times_cited, affiliations "  # noqa: S608
        f"FROM {table} WHERE library_id = %s"
    )
    params: list[Any] = [library.pk]
    needle = peer.casefold()
    if not peer:
        sql += " AND is_ours = %s"
        params.append(True)
    elif _sql_findable(needle):
        postgres = connection.vendor == "postgresql"
        if '"' not in needle and "\\" not in needle:
            # The match is then exact where the text has no JSON escape (the name could match
            # an escape's tail: "\\n abc"; SQLite escapes every non-ASCII character) and, on
            # PostgreSQL, no FOLDS_TO_ASCII character: there the addresses are not sent
            # (`unit_rows` takes such a row as it comes).
            check = (
                f"strpos((affiliations)::text, '\\') > 0 OR {FOLDS_TO_ASCII_SQL}"
                if postgres
                else "instr(affiliations, '\\') > 0"
            )
            sql = sql.replace(
                ", affiliations FROM", f", CASE WHEN {check} THEN affiliations END FROM"
            )
        if postgres:
            # the expression of the trigram index and the partial index, as they are written
            sql += f" AND ((affiliations)::text ILIKE %s OR {FOLDS_TO_ASCII_SQL})"
            params.append(_like(needle, ascii_json=False))
        else:  # SQLite keeps JSON ASCII-escaped; its LIKE ignores ASCII case
            sql += " AND (affiliations LIKE %s ESCAPE '\\' OR affiliations LIKE '%%\\u%%')"
            params.append(_like(needle, ascii_json=True))
    return sql, params


def unit_rows(library: Library, peer: str = "") -> Iterable[Row]:
    """(year, journal, issn, authors, author keys, times cited, affiliations) of the unit's
    papers, all years. A peer's are narrowed in SQL first when its name allows it
    (`_sql_findable`): affiliations whose JSON text contains the name, case ignored (on
    PostgreSQL a trigram index finds them), or holding a character whose case folding SQL does
    not do as Python does (on PostgreSQL a partial index; on SQLite, whose JSON is
    ASCII-escaped, any non-ASCII character); then checked in Python as the definition says. A
    peer's rows leave out the author lists (a peer's authors are not shown: see
    `subject.make_partials`), and its addresses where SQL's match is exact (an empty
    list then: a peer's pass reads no address after this check).

    Raw SQL and one `json.loads` per JSON column: Django's per-value converters were a third
    of a peer's first view (profiled)."""
    sql, params = rows_sql(library, peer)
    needle = peer.casefold()
    loads = json.loads

    def decoded(value: Any) -> Any:
        return loads(value) if isinstance(value, str | bytes) else value

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            for year, journal, issn, names, keys, cited, affiliations in rows:
                if affiliations is None:  # a peer's, found exactly by SQL (`rows_sql`)
                    addresses = []
                else:
                    addresses = decoded(affiliations)
                    if peer and not any(needle in a.casefold() for a in addresses):
                        continue
                yield (
                    year,
                    journal,
                    issn,
                    [] if names is None else decoded(names),
                    [] if keys is None else decoded(keys),
                    decoded(cited),
                    addresses,
                )
