"""The patron's browse and search pages over a campaign of 200,000 titles: bounded work whatever
the page (keyset on the id, no offset, no count), and search through the index of folded tokens
(`logic.normalise.search_text`: a GIN tsvector index on PostgreSQL, an FTS5 table on SQLite)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from lifeline.selection.logic.normalise import search_terms
from lifeline.selection.models import Campaign, Title
from lifeline.selection.services import isbn_or_blank

COLUMNS = (
    "id", "isbn", "isbn_raw", "title", "author", "publisher", "year", "price", "clc", "status",
)  # fmt: skip


def search_filter(query: str) -> Any:
    """A WHERE clause for titles matching `query` through the search index, or None when the
    query has no searchable token (punctuation only). The tokens are [a-z0-9]+ made here, so the
    text-search syntax of either database never sees what the patron typed."""
    terms = search_terms(query)
    if not terms:
        return None
    if connection.vendor == "postgresql":
        expr = _tsquery(terms)
        sql = "selection_title.search_vector @@ to_tsquery('simple'::regconfig, %s)"
    else:
        expr = " AND ".join(f'"{t}"*' if prefix else f'"{t}"' for t, prefix in terms)
        sql = (
            "selection_title.id IN"
            " (SELECT rowid FROM selection_title_fts WHERE selection_title_fts MATCH %s)"
        )
    # Our own SQL; the one parameter is bound.
    return RawSQL(sql, [expr], output_field=BooleanField())  # noqa: S611


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "xX")


def browse_titles(
    campaign: Campaign, *, query: str = "", cls: str = "", after: int = 0, size: int = 30
) -> tuple[list[Title], bool]:
    """One page of a campaign's titles (a class, a search) after the id `after`, in id order
    (the catalogue's order: an import inserts its lines in order): (rows, is there a next)."""
    ids = list(campaign.catalogues.values_list("id", flat=True))
    titles = Title.objects.filter(catalogue_id__in=ids, library_id=campaign.library_id)
    if cls:
        titles = titles.filter(clc_class=cls)
    if query:
        isbn = isbn_or_blank(query) if len(_digits(query)) in (10, 13) else ""
        if isbn:
            titles = titles.filter(isbn=isbn)
        elif connection.vendor == "sqlite":
            return _fts_page(campaign, ids, query, cls, after, size)
        else:
            return _tsv_page(campaign, ids, query, cls, after, size)
    if after:
        titles = titles.filter(id__gt=after)
    rows = list(titles.order_by("id").only(*COLUMNS)[: size + 1])
    return rows[:size], len(rows) > size


def _fts_page(
    campaign: Campaign, ids: list[int], query: str, cls: str, after: int, size: int
) -> tuple[list[Title], bool]:
    """SQLite: walk the FTS5 matches in rowid order and stop at the page (CROSS JOIN keeps the
    FTS table outside). `id IN (SELECT rowid … MATCH …)` collected every match first: all
    200,000 rows for a publisher's name."""
    terms = search_terms(query)
    if not terms:
        return [], False
    expr = " AND ".join(f'"{t}"*' if prefix else f'"{t}"' for t, prefix in terms)
    if not ids:
        return [], False
    columns = ", ".join(f"t.{c}" for c in COLUMNS)
    sql = (
        f"SELECT {columns} FROM selection_title_fts f CROSS JOIN selection_title t"  # noqa: S608
        " ON t.id = f.rowid WHERE selection_title_fts MATCH %s AND f.rowid > %s"
        f" AND t.library_id = %s AND t.catalogue_id IN ({', '.join(['%s'] * len(ids))})"
        + (" AND t.clc_class = %s" if cls else "")
        + " ORDER BY f.rowid LIMIT %s"
    )
    params: list[Any] = [expr, after, campaign.library_id, *ids]
    if cls:
        params.append(cls)
    rows = list(Title.objects.raw(sql, [*params, size + 1]))
    return rows[:size], len(rows) > size


def _tsquery(terms: list[tuple[str, bool]]) -> str:
    return " & ".join(f"{t}:*" if prefix else t for t, prefix in terms)


WINDOW = 1000


def _tsv_page(
    campaign: Campaign, ids: list[int], query: str, cls: str, after: int, size: int
) -> tuple[list[Title], bool]:
    """PostgreSQL, in two bounded steps, because no single plan suits both kinds of word.

    1. The next WINDOW titles in id order, tested against the stored tsvector: a common word
       (the publisher every line shares) fills the page here, whatever the planner thinks.
    2. Fewer matches there means a rare word: its matches come from the GIN index alone, then
       are sorted (the planner, guessing "作者4321" common, walked the primary key and tested
       104,000 rows for 40 matches: 8.5 s).
    """
    terms = search_terms(query)
    if not terms or not ids:
        return [], False
    columns = ", ".join(COLUMNS)
    where = (
        f"library_id = %s AND catalogue_id IN ({', '.join(['%s'] * len(ids))})"
        + (" AND clc_class = %s" if cls else "")
        + " AND id > %s"
    )
    params: list[Any] = [campaign.library_id, *ids, *([cls] if cls else []), after]
    tsq = _tsquery(terms)
    window = (
        f"SELECT {columns} FROM (SELECT {columns}, search_vector FROM selection_title"  # noqa: S608
        f" WHERE {where} ORDER BY id LIMIT {WINDOW}) w"
        " WHERE w.search_vector @@ to_tsquery('simple'::regconfig, %s) ORDER BY id LIMIT %s"
    )
    rows = list(Title.objects.raw(window, [*params, tsq, size + 1]))
    if len(rows) <= size:
        # `id + 0`: an order no index gives, so the matches come from the GIN index and are
        # sorted, instead of a walk down the primary key testing every row it passes.
        rare = (
            f"SELECT {columns} FROM selection_title"  # noqa: S608
            f" WHERE search_vector @@ to_tsquery('simple'::regconfig, %s) AND {where}"
            " ORDER BY id + 0 LIMIT %s"
        )
        rows = list(Title.objects.raw(rare, [tsq, *params, size + 1]))
    return rows[:size], len(rows) > size
