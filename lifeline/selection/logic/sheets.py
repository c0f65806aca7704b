"""Vendor lists and ISBN lists as spreadsheets (XLSX, CSV in UTF-8 or GBK/GB18030).

The reading (format, encoding, size, zip bombs) is the registry import's; this module maps the
Chinese headers vendors use (ISBN, 题名, 责任者, 出版社, 出版年, 定价, 中图分类号) and their English
equivalents, and refuses the whole file on any bad line, naming it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from lifeline.registry.io.reading import FileRefused, Row, Table, read_tables
from lifeline.registry.io.values import as_text, norm
from lifeline.selection.logic.marc import MAX_PROBLEMS, ImportRefused, Line
from lifeline.selection.logic.normalise import IsbnError, parse_isbn, parse_price, tidy, year_of

HEADERS: dict[str, tuple[str, ...]] = {
    "isbn": ("isbn", "国际标准书号", "isbn号", "书号", "标准书号", "isbn/issn"),
    "title": ("题名", "书名", "正题名", "title", "图书名称", "名称"),
    "author": ("责任者", "作者", "著者", "author", "authors", "第一责任者", "编著者"),
    "publisher": ("出版社", "出版者", "publisher", "出版单位"),
    "year": ("出版年", "出版日期", "出版时间", "year", "出版年月", "pubdate"),
    "price": ("定价", "价格", "单价", "price", "码洋"),
    "clc": ("中图分类号", "中图法分类号", "分类号", "clc", "索书号分类"),
}
_LOOKUP = {norm(alias): key for key, aliases in HEADERS.items() for alias in aliases}


def _mapping(table: Table) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        key = _LOOKUP.get(norm(header))
        if key and key not in found:
            found[key] = index
    return found


def _cell(cells: list[object], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return as_text(cells[index])


def read_sheet(data: bytes, source: str, *, isbn_only: bool = False) -> tuple[list[Line], str]:
    """(lines, format and encoding word). An ISBN list may be a bare column of ISBNs."""
    try:
        tables, encoding = read_tables(data, source)
    except FileRefused as exc:
        raise ImportRefused([str(exc)]) from exc
    if not tables:
        raise ImportRefused([_("The file is empty.")])
    table = tables[0]
    mapping = _mapping(table)
    if isbn_only and "isbn" not in mapping and table.headers and _isbn_like(table.headers[0]):
        # A bare list: the first line is an ISBN, not a header.
        table.rows.insert(0, Row(table.header_line, list(table.headers)))
        mapping = {"isbn": 0}
    need = ("isbn",) if isbn_only else ("title",)
    missing = [k for k in need if k not in mapping]
    if missing:
        raise ImportRefused(
            [
                _(
                    "%(source)s: no column %(columns)s in the header line (%(line)d); "
                    "found: %(found)s."
                )
                % {
                    "source": source,
                    "columns": " / ".join(HEADERS[missing[0]][:3]),
                    "line": table.header_line,
                    "found": ", ".join(h for h in table.headers if h)[:300],
                }
            ]
        )
    lines: list[Line] = []
    problems: list[str] = []
    for row in table.rows:
        where = _("line %(n)d") % {"n": row.line}
        try:
            lines.append(_line(where, row.cells, mapping, isbn_only))
        except ValueError as exc:
            problems.append(f"{source}: {exc}")
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise ImportRefused(problems)
    if not lines:
        raise ImportRefused([_("%(source)s holds no titles.") % {"source": source}])
    return lines, encoding


def _isbn_like(text: str) -> bool:
    try:
        return bool(parse_isbn(text))
    except IsbnError:
        return True


def _line(where: str, cells: list[object], mapping: dict[str, int], isbn_only: bool) -> Line:
    raw_isbn = _cell(cells, mapping.get("isbn"))
    try:
        isbn = parse_isbn(raw_isbn)
    except IsbnError as exc:
        raise ValueError(
            _("%(where)s: the ISBN %(isbn)s fails its checksum.") % {"where": where, "isbn": exc}
        ) from exc
    if raw_isbn and not isbn:
        raise ValueError(
            _("%(where)s: “%(value)s” is not an ISBN.") % {"where": where, "value": raw_isbn[:40]}
        )
    title = tidy(_cell(cells, mapping.get("title")), 800)
    if isbn_only and not isbn:
        raise ValueError(_("%(where)s: no ISBN.") % {"where": where})
    if not isbn_only and not title:
        raise ValueError(_("%(where)s: no title.") % {"where": where})
    price_text = _cell(cells, mapping.get("price"))
    try:
        price = parse_price(price_text)
    except ValueError as exc:
        raise ValueError(
            _("%(where)s: “%(value)s” is not a price.") % {"where": where, "value": price_text[:40]}
        ) from exc
    return Line(
        where=where,
        title=title,
        isbn=isbn,
        isbn_raw=raw_isbn[:40],
        author=tidy(_cell(cells, mapping.get("author")), 300),
        publisher=tidy(_cell(cells, mapping.get("publisher")), 200),
        year=year_of(_cell(cells, mapping.get("year"))),
        price=price,
        clc=tidy(_cell(cells, mapping.get("clc")), 40),
    )
