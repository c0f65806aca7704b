"""The fast reader of tabular (TSV, CSV) reports: the body read in one go with polars and every
Code of Practice check run as a column expression.

It only ever says "these are the rows" or "ask the row-by-row reader": when a check fails (a
negative or mangled count, a metric the report may not carry, a short row, an empty platform,
a total that does not add up, a repeated row) or the file has a shape it cannot read exactly as
Python's csv module does (quoted fields spanning lines, stray quotes, lone carriage returns), it
returns None and `parse_report` runs `parse_tabular`, which words each problem with its line
and column. The header and the column headings are checked by the same code as the row-by-row
reader (`tabular_layout`), so those messages are the same whichever reader runs.
"""

from __future__ import annotations

import csv
from typing import Any

import polars as pl

from lifeline.analytics.counter.parse import (
    FRAME_SCHEMA,
    ID_COLUMNS,
    ITEM_COLUMNS,
    TDM_PREFIX,
    ParsedReport,
    TabularLayout,
    tabular_layout,
)

# The header rows the row-by-row reader looks at for the column heading row (60) and one more.
HEAD_LINES = 61
# Python's str.strip() treats \x1c-\x1f as whitespace, Rust's (polars) does not, and the csv
# module refuses NUL: leave such files to the row-by-row reader. (\x1f also separates the
# whole-line read in _read_body.)
_AWKWARD = ("\x00", "\x1c", "\x1d", "\x1e", "\x1f")
# A quoted field: a double quote, anything with quotes doubled, a double quote.
_QUOTED = r'"(?:[^"]|"")*"'
_DIGITS = r"^[0-9]*$"


def fast_tabular(text: str, delimiter: str, file_format: str) -> ParsedReport | None:
    """The checked report, or None when the row-by-row reader must decide (see the module doc).
    Raises `CounterError` for a wrong header exactly as `parse_tabular` does."""
    # (`in` scans at memchr speed; a regular expression over 80 MB costs a third of a second.)
    if any(c in text for c in _AWKWARD) or (
        "\r" in text and text.count("\r") != text.count("\r\n")
    ):
        return None
    head_lines = text.split("\n", HEAD_LINES)[:HEAD_LINES]
    reader = csv.reader(head_lines, delimiter=delimiter)
    head: list[list[str]] = []
    for row in reader:
        head.append(row)
        if reader.line_num != len(head):  # a quoted field spans lines: line numbers would drift
            return None
    layout = tabular_layout(head, file_format)
    parsed, columns = layout.parsed, layout.columns
    start = 0
    for _ in range(layout.header_at + 1):
        start = text.find("\n", start) + 1
        if start == 0:
            break
    body = text[start:] if start else ""
    if body.endswith("\n"):
        body = body[:-1]
    if not body.strip():
        parsed.frame = pl.DataFrame(schema=FRAME_SCHEMA)
        return parsed
    frame = _read_body(body, delimiter, len(columns))
    if frame is None:
        return None
    return _checked(layout, frame)


def fast_rows(rows: list[list[Any]], file_format: str) -> ParsedReport | None:
    """The same column checks on rows already read as cells (an XLSX sheet): the report, or None
    when the row-by-row reader must decide. Raises `CounterError` for a wrong header."""
    layout = tabular_layout(rows, file_format)
    width = len(layout.columns)
    body = rows[layout.header_at + 1 :]
    if not body:
        layout.parsed.frame = pl.DataFrame(schema=FRAME_SCHEMA)
        return layout.parsed
    count_at = {layout.index["Reporting_Period_Total"], *(i for i, _m in layout.month_cols)}
    data: dict[str, list[str]] = {}
    for i in range(width):
        if i in count_at:
            # A spreadsheet's whole number may be a float (5.0): read as the careful reader
            # does (`_count`); anything else stays text and fails the digits check.
            data[f"c{i}"] = [_count_text(r[i]) if i < len(r) else "" for r in body]
        else:
            data[f"c{i}"] = ["" if i >= len(r) or r[i] is None else str(r[i]) for r in body]
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String)).with_columns(
        pl.Series("_short", [len(r) < width for r in body], dtype=pl.Boolean),
        pl.Series("_blank", [not any(str(c).strip() for c in r) for r in body], dtype=pl.Boolean),
    )
    return _checked(layout, frame)


def _count_text(value: Any) -> str:
    if type(value) is int:
        return str(value)
    if type(value) is float and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _checked(layout: TabularLayout, frame: pl.DataFrame) -> ParsedReport | None:
    """Every check of the row-by-row reader as column expressions over the body's cells
    (`c0`… as text, `_short`, `_blank`); the usage frame, or None to leave it to that reader."""
    parsed, spec, columns = layout.parsed, layout.spec, layout.columns
    index = layout.index
    cell = [pl.col(f"c{i}").str.strip_chars() for i in range(len(columns))]
    total_at = index["Reporting_Period_Total"]
    count_at = [total_at, *(i for i, _m in layout.month_cols)]
    database_at = index.get("Database")
    has_items = spec.family in {"TR", "IR"}
    id_at = [index.get(c) for c in ID_COLUMNS]
    frame = frame.filter(~pl.col("_blank")).select(
        pl.col("_short"),
        # The cells before the counts (title, identifiers, attributes, metric): a row repeating
        # another in all of them would be counted twice.
        pl.struct(cell[i].alias(f"i{i}") for i in range(total_at)).is_duplicated().alias("_dup"),
        cell[index["Platform"]].alias("platform"),
        (cell[database_at] if database_at is not None else pl.lit("")).alias("database"),
        *(
            (
                (cell[0] if name == "title" else cell[at] if at is not None else pl.lit(""))
                if has_items
                else pl.lit(None, dtype=pl.String)
            ).alias(name)
            for name, at in zip(ITEM_COLUMNS, [0, *id_at], strict=True)
        ),
        cell[index["Metric_Type"]].alias("metric"),
        (cell[index["Access_Method"]] if "Access_Method" in index else pl.lit("")).alias("_access"),
        *(cell[i].alias(f"n{i}") for i in count_at),
    )
    # Every check the row-by-row reader makes on a row, as one boolean per row.
    counts_ok = pl.all_horizontal(pl.col(f"n{i}").str.contains(_DIGITS) for i in count_at)
    # An empty total beside months is "the months say it" with a warning: the careful reader's.
    empty_total = (pl.col(f"n{total_at}") == "") if layout.month_cols else pl.lit(False)
    bad = (
        pl.col("_short")
        | empty_total
        | ~pl.col("metric").is_in(sorted(spec.metrics))
        | (pl.col("platform") == "")
        | ~counts_ok
        | pl.col("_dup")
    )
    if frame.select(bad.any()).item():
        return None
    # Text and data mining is kept apart from Regular use under "TDM:<Metric_Type>".
    access_at = index.get("Access_Method")
    if layout.all_tdm or access_at is not None:
        tdm = pl.lit(True) if layout.all_tdm else pl.col("_access").str.to_uppercase() == "TDM"
        frame = frame.with_columns(
            pl.when(tdm)
            .then(pl.lit(TDM_PREFIX) + pl.col("metric"))
            .otherwise(pl.col("metric"))
            .alias("metric")
        )
    # Digits only: empty is 0, and a number too large for 64 bits goes to the careful reader.
    numbers = frame.with_columns(
        pl.col(f"n{i}").replace("", "0").cast(pl.Int64, strict=False) for i in count_at
    )
    if numbers.select(pl.any_horizontal(pl.col(f"n{i}").is_null().any() for i in count_at)).item():
        return None
    keep = ["platform", "database", *ITEM_COLUMNS, "metric"]
    if layout.month_cols:
        months = [(i, m) for i, m in layout.month_cols]
        month_sum = pl.sum_horizontal(pl.col(f"n{i}") for i, _m in months)
        if numbers.select((pl.col(f"n{total_at}") != month_sum).any()).item():
            return None
        numbers = numbers.with_row_index("_row")
        parts = [
            numbers.select(
                "_row",
                *keep,
                pl.lit(position, dtype=pl.Int32).alias("_pos"),
                pl.lit(month, dtype=pl.Date).alias("month"),
                pl.col(f"n{i}").alias("count"),
            )
            for position, (i, month) in enumerate(months)
        ]
        usage = pl.concat(parts).filter(pl.col("count") != 0)
        if len(parts) > 1:
            # The order the row-by-row reader appends in: by line, then by month.
            usage = usage.sort("_row", "_pos")
    else:
        usage = numbers.select(
            *keep,
            pl.lit(parsed.begin.replace(day=1), dtype=pl.Date).alias("month"),
            pl.col(f"n{total_at}").alias("count"),
        ).filter(pl.col("count") != 0)
    parsed.frame = usage.select(pl.col(name).cast(dtype) for name, dtype in FRAME_SCHEMA.items())
    return parsed


def _read_body(body: str, delimiter: str, width: int) -> pl.DataFrame | None:
    """The body's first `width` cells per line as strings, with `_short` (the line has fewer
    cells) and `_blank` (no cell has anything but spaces); None when csv and polars might read
    the body differently."""
    data = body.encode()
    quoted = '"' in body
    sep = {"\t": "\\t", ",": ","}[delimiter]
    try:
        # Whole lines, one per row: \x1f never occurs in a file that gets here.
        lines = pl.read_csv(
            data,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            schema={"line": pl.String},
            empty_string_is_null=False,
            raise_if_empty=False,
        )["line"]
        if quoted:
            # Quotes only as whole fields ("a", "b ""c"""), each within its line; anything else
            # (a quote inside a field, a field across lines) the two readers may read differently.
            lines = lines.str.replace_all(_QUOTED, "\x00")
            misplaced = (
                lines.str.contains('"', literal=True)
                | lines.str.contains(f"[^{sep}]\\x00")
                | lines.str.contains(f"\\x00[^{sep}\\r]")
            )
            if misplaced.any():
                return None
        frame = pl.read_csv(
            data,
            has_header=False,
            separator=delimiter,
            quote_char='"' if quoted else None,
            schema={f"c{i}": pl.String for i in range(width)},
            truncate_ragged_lines=True,
            extra_columns="ignore",
            empty_string_is_null=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    if frame.height != lines.len():
        return None
    frame = frame.with_columns(pl.all().fill_null("")).with_row_index("_i")
    # Only a line whose first cell is empty can be blank, and only one whose last cell is empty
    # (polars fills missing cells with "") can be short: look closer at those lines alone.
    maybe_blank = frame.filter(pl.col("c0").str.strip_chars() == "")["_i"]
    candidates = lines.gather(maybe_blank)
    is_blank = candidates.str.contains(f"^[\\s{sep}]*$")
    if quoted and (candidates.str.contains(f"^[\\s{sep}\\x00]*$") & ~is_blank).any():
        return None  # a line of only quoted blanks: leave the wording to the careful reader
    maybe_short = frame.filter(pl.col(f"c{width - 1}") == "")["_i"]
    cells = lines.gather(maybe_short).str.count_matches(delimiter, literal=True) + 1
    return frame.with_columns(
        pl.col("_i").is_in(maybe_blank.filter(is_blank).implode()).alias("_blank"),
        pl.col("_i").is_in(maybe_short.filter(cells < width).implode()).alias("_short"),
    )
