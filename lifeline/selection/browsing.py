"""The patron's browse and search pages over a campaign of 200,000 titles: bounded work whatever
the page (keyset on the id, no offset, no count), and search through the index of folded tokens
(`logic.normalise.search_text`: a GIN tsvector index on PostgreSQL, an FTS5 table on SQLite).

The page is the patron's busiest (issue 12: p99 ≤ 100 ms under wrk at 200,000 titles), so its
two statements are written here in SQL and read as plain rows: the campaign with its lists, and
the page's titles with their marks and the reader's own. Through the ORM each query cost
0.5–0.8 ms of CPU building the SQL and the model instances, ten times what the database took."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, connections, router
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from lifeline.core import rows
from lifeline.selection.logic.normalise import search_terms
from lifeline.selection.models import Campaign, Title, Vote
from lifeline.selection.services import isbn_or_blank

COLUMNS = (
    "id", "isbn", "isbn_raw", "title", "author", "publisher", "year", "price", "clc", "status",
)  # fmt: skip


@dataclass(slots=True)
class Card:
    """A title as the page shows it: the catalogue line, its marks in the campaign, and whether
    one of them is the reader's."""

    pk: int
    isbn: str
    isbn_raw: str
    title: str
    author: str
    publisher: str
    year: int | None
    price: Decimal | None
    clc: str
    status: str
    n_votes: int
    marked: bool


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
        expr = _fts_match(terms)
        sql = (
            "selection_title.id IN"
            " (SELECT rowid FROM selection_title_fts WHERE selection_title_fts MATCH %s)"
        )
    # Our own SQL; the one parameter is bound.
    return RawSQL(sql, [expr], output_field=BooleanField())  # noqa: S611


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "xX")


def _tsquery(terms: list[tuple[str, bool]]) -> str:
    return " & ".join(f"{t}:*" if prefix else t for t, prefix in terms)


def _fts_match(terms: list[tuple[str, bool]]) -> str:
    return " AND ".join(f'"{t}"*' if prefix else f'"{t}"' for t, prefix in terms)


def page_campaign(library_id: int, pk: int) -> tuple[Campaign, list[int]] | None:
    """The campaign `pk` of the library and the ids of its vendor lists, in one statement (the
    ids as a list, not a join, for the title queries below: see `services.campaign_titles`)."""
    conn = connections[router.db_for_read(Campaign)]
    if conn.vendor not in _CAMPAIGN_SQL:
        qn = conn.ops.quote_name
        through = Campaign.catalogues.through._meta.db_table
        agg = (
            "string_agg(cc.catalogue_id::text, ',')"
            if conn.vendor == "postgresql"
            else "group_concat(cc.catalogue_id, ',')"
        )
        _CAMPAIGN_SQL[conn.vendor] = (
            f"SELECT {rows.select_list(Campaign, 'c', qn)}, (SELECT {agg}"  # noqa: S608
            f" FROM {qn(through)} cc WHERE cc.campaign_id = c.id)"
            f" FROM {qn(Campaign._meta.db_table)} c WHERE c.id = %s AND c.library_id = %s"
        )
    with conn.cursor() as cursor:
        cursor.execute(_CAMPAIGN_SQL[conn.vendor], [pk, library_id])
        row = cursor.fetchone()
    if row is None:
        return None
    campaign: Campaign = rows.instance(Campaign, conn, row[:-1])
    return campaign, [int(i) for i in str(row[-1] or "").split(",") if i]


_CAMPAIGN_SQL: dict[str, str] = {}


WINDOW = 1000


def browse_titles(
    campaign: Campaign,
    *,
    query: str = "",
    cls: str = "",
    after: int = 0,
    size: int = 30,
    catalogue_ids: list[int] | None = None,
    user_id: int | None = None,
) -> tuple[list[Card], bool]:
    """One page of a campaign's titles (a class, a search) after the id `after`, in id order
    (the catalogue's order: an import inserts its lines in order), each with its marks in the
    campaign and whether `user_id` made one: (cards, is there a next). One statement, two for a
    rare word on PostgreSQL."""
    ids = (
        list(campaign.catalogues.values_list("id", flat=True))
        if catalogue_ids is None
        else catalogue_ids
    )
    if not ids:
        return [], False
    where = [f"t.library_id = %s AND t.catalogue_id IN ({', '.join(['%s'] * len(ids))})"]
    params: list[Any] = [campaign.library_id, *ids]
    if cls:
        where.append("t.clc_class = %s")
        params.append(cls)
    marks = _Marks(campaign.pk, user_id or 0)
    if query:
        isbn = isbn_or_blank(query) if len(_digits(query)) in (10, 13) else ""
        if isbn:
            where.append("t.isbn = %s")
            params.append(isbn)
        else:
            terms = search_terms(query)
            if not terms:
                return [], False
            if connection.vendor == "sqlite":
                return _fts_page(terms, where, params, after, size, marks)
            return _tsv_page(terms, where, params, after, size, marks)
    if after:
        where.append("t.id > %s")
        params.append(after)
    columns = ", ".join(f"t.{c}" for c in COLUMNS)
    page = (
        f"SELECT {columns} FROM selection_title t WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY t.id LIMIT %s"
    )
    return marks.fetch(page, [*params, size + 1], size)


class _Marks:
    """Wraps a page's SQL so each of its rows (at most a page: the counts run on the page, not
    on what it was chosen from) carries its marks in the campaign and the reader's own."""

    def __init__(self, campaign_id: int, user_id: int) -> None:
        self.campaign_id = campaign_id
        self.user_id = user_id

    def fetch(self, page: str, params: list[Any], size: int) -> tuple[list[Card], bool]:
        vote = Vote._meta.db_table
        sql = (
            f"SELECT p.*, (SELECT COUNT(*) FROM {vote} v"  # noqa: S608 - our own SQL
            " WHERE v.campaign_id = %s AND v.title_id = p.id),"
            f" EXISTS (SELECT 1 FROM {vote} v"
            " WHERE v.campaign_id = %s AND v.title_id = p.id AND v.user_id = %s)"
            f" FROM ({page}) p ORDER BY p.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.campaign_id, self.campaign_id, self.user_id, *params])
            rows = cursor.fetchall()
        price = _price_converter()
        cards = []
        for pk, isbn, raw, title, by, pub, year, cost, clc, status, n, own in rows[:size]:
            cards.append(
                Card(pk, isbn, raw, title, by, pub, year, price(cost), clc, status, n, bool(own))
            )
        return cards, len(rows) > size


def _price_converter() -> Any:
    """What the ORM does to a stored price (SQLite keeps 30.00 as the integer 30; the ORM gives
    back Decimal("30.00")), from Django's own converters for the field."""
    field = Title._meta.get_field("price")
    expression = field.get_col(Title._meta.db_table)
    converters = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
    if not converters:
        return lambda value: value

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


def _fts_page(
    terms: list[tuple[str, bool]],
    where: list[str],
    params: list[Any],
    after: int,
    size: int,
    marks: _Marks,
) -> tuple[list[Card], bool]:
    """SQLite: walk the FTS5 matches in rowid order and stop at the page (CROSS JOIN keeps the
    FTS table outside). `id IN (SELECT rowid … MATCH …)` collected every match first: all
    200,000 rows for a publisher's name."""
    columns = ", ".join(f"t.{c}" for c in COLUMNS)
    page = (
        f"SELECT {columns} FROM selection_title_fts f CROSS JOIN selection_title t"  # noqa: S608
        " ON t.id = f.rowid WHERE selection_title_fts MATCH %s AND f.rowid > %s"
        f" AND {' AND '.join(where)} ORDER BY f.rowid LIMIT %s"
    )
    return marks.fetch(page, [_fts_match(terms), after, *params, size + 1], size)


def _tsv_page(
    terms: list[tuple[str, bool]],
    where: list[str],
    params: list[Any],
    after: int,
    size: int,
    marks: _Marks,
) -> tuple[list[Card], bool]:
    """PostgreSQL, in two bounded steps, because no single plan suits both kinds of word.

    1. The next WINDOW titles in id order, tested against the stored tsvector: a common word
       (the publisher every line shares) fills the page here, whatever the planner thinks.
    2. Fewer matches there means a rare word: its matches come from the GIN index alone, then
       are sorted (the planner, guessing "作者4321" common, walked the primary key and tested
       104,000 rows for 40 matches: 8.5 s).
    """
    columns = ", ".join(f"t.{c}" for c in COLUMNS)
    bounded = " AND ".join([*where, "t.id > %s"])
    params = [*params, after]
    tsq = _tsquery(terms)
    window = (
        f"SELECT {', '.join(COLUMNS)} FROM (SELECT {columns}, t.search_vector"  # noqa: S608
        f" FROM selection_title t WHERE {bounded} ORDER BY t.id LIMIT {WINDOW}) w"
        " WHERE w.search_vector @@ to_tsquery('simple'::regconfig, %s) ORDER BY w.id LIMIT %s"
    )
    cards, more = marks.fetch(window, [*params, tsq, size + 1], size)
    if more:
        return cards, more
    # `id + 0`: an order no index gives, so the matches come from the GIN index and are
    # sorted, instead of a walk down the primary key testing every row it passes.
    rare = (
        f"SELECT {columns} FROM selection_title t"  # noqa: S608
        f" WHERE t.search_vector @@ to_tsquery('simple'::regconfig, %s) AND {bounded}"
        " ORDER BY t.id + 0 LIMIT %s"
    )
    return marks.fetch(rare, [tsq, *params, size + 1], size)
