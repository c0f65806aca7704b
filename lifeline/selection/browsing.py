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
        expr = " & ".join(f"{t}:*" if prefix else t for t, prefix in terms)
        sql = (
            "to_tsvector('simple'::regconfig, selection_title.search)"
            " @@ to_tsquery('simple'::regconfig, %s)"
        )
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
            match = search_filter(query)
            if match is None:
                return [], False
            titles = titles.filter(match)
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
