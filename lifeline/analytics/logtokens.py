"""An access log chunk cut into columns: polars' CSV reader (quote-aware, native), or one regular
expression per line for a chunk whose quotes do not balance (moved out of `logs.py`)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl

# One pass gives everything: client, login, time, method, host of an absolute (proxied) URL,
# path, status, and the user agent when the line is in combined format.
LINE_RE = (
    r"^(?P<ip>[0-9A-Fa-f.:]+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "
    r'"(?P<method>[A-Z]+) (?:[a-zA-Z][a-zA-Z0-9+.-]*://(?P<host>[^/:\s?#"]+)(?::\d+)?)?'
    r'(?P<path>[^\s"]*)[^"]*" '
    r'(?P<status>\d{3}) \S+(?: "[^"]*" "(?P<agent>[^"]*)")?'
)
FIELDS = ["ip", "ident", "user", "date", "tz", "request", "status", "size", "referer", "agent"]
# The reader materialises only the columns the analysis uses (not ident, size or referer).
WANTED = [FIELDS.index(name) for name in ("ip", "user", "date", "tz", "request", "status", "agent")]
# A time zone offset is parsed once per distinct value, glued to this fixed date.
EPOCH_2000 = 946_684_800
TZ_PROBE = "01/Jan/2000:00:00:00 "


@dataclass
class Tokens:
    """A chunk cut into columns. Lines are `rows` (n, ip, user, date, tz, status, agent, key);
    what hangs on the request (host, path) is worked out once per distinct request in `keys`
    (key, valid, host, path): a log repeats the same URLs over and over, and splitting strings
    is the dearest step of the analysis. `ip` is null on a line without the shape of a log line,
    `valid` false or missing for a request without a URL."""

    rows: pl.DataFrame
    keys: pl.DataFrame


def tokens_fast(chunk: bytes) -> Tokens | None:
    """Tokenise a chunk as space-separated, quote-aware columns (polars' CSV reader: native,
    multi-threaded, several times faster than a capturing regular expression). None when the
    reader gives up."""
    raw = None
    # Strict UTF-8 first (a fifth cheaper); a chunk with a broken byte is read again lossily.
    for encoding in ("utf8", "utf8-lossy"):
        try:
            raw = pl.read_csv(
                chunk,
                separator=" ",
                quote_char='"',
                has_header=False,
                schema=dict.fromkeys(FIELDS, pl.String),
                columns=WANTED,
                truncate_ragged_lines=True,
                encoding=encoding,
            )
            break
        except pl.exceptions.PolarsError:
            continue
    if raw is None:
        return None
    shaped = (
        pl.col("ip").is_not_null()
        & pl.col("date").str.starts_with("[")
        & pl.col("tz").str.ends_with("]")
    )
    rows = raw.with_row_index("n").select(
        "n",
        pl.when(shaped).then(pl.col("ip")).alias("ip"),
        "user",
        "date",
        "tz",
        "status",
        "agent",
        pl.col("request").alias("key"),
    )
    # The request is "METHOD URL PROTOCOL"; an absolute (proxied) URL gives the host.
    keys = rows.select(pl.col("key").unique().drop_nulls())
    url = pl.col("key").str.splitn(" ", 3).struct.field("field_1")
    parts = url.str.splitn("/", 4)
    absolute = parts.struct.field("field_0").str.ends_with(":") & (
        parts.struct.field("field_1") == ""
    )
    keys = keys.select(
        "key",
        url.is_not_null().alias("valid"),
        pl.when(absolute)
        .then(
            parts.struct.field("field_2")
            .str.splitn(":", 2)
            .struct.field("field_0")
            .str.to_lowercase()
        )
        .alias("host"),
        pl.when(absolute)
        .then("/" + parts.struct.field("field_3").fill_null(""))
        .otherwise(url)
        .alias("path"),
    )
    return Tokens(rows, keys)


def tokens_regex(chunk: bytes) -> Tokens:
    """The same through one regular expression per line (the robust, slower path)."""
    found = (
        read_lines(chunk)
        .with_row_index("n")
        .with_columns(pl.col("line").str.extract_groups(LINE_RE).alias("f"))
        .unnest("f")
    )
    stamp = pl.col("ts").str.splitn(" ", 2)
    rows = found.select(
        "n",
        "ip",
        "user",
        ("[" + stamp.struct.field("field_0")).alias("date"),
        (stamp.struct.field("field_1") + "]").alias("tz"),
        "status",
        "agent",
        # The path has no line break: host and path travel together as one key.
        pl.concat_str(
            [pl.col("host").str.to_lowercase().fill_null(""), pl.col("path")], separator="\n"
        ).alias("key"),
    )
    key = pl.col("key").str.splitn("\n", 2)
    keys = rows.select(pl.col("key").unique().drop_nulls()).select(
        "key",
        pl.lit(True).alias("valid"),
        pl.when(key.struct.field("field_0") != "").then(key.struct.field("field_0")).alias("host"),
        key.struct.field("field_1").alias("path"),
    )
    return Tokens(rows, keys)


def tokenise(chunk: bytes) -> Tokens:
    expected = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    tokens = tokens_fast(chunk)
    if tokens is None or tokens.rows.height != expected:
        # An unbalanced quote swallows line breaks: this chunk goes through the (slower)
        # line-by-line regular expression instead.
        tokens = tokens_regex(chunk)
    return tokens


def read_lines(chunk: bytes) -> pl.DataFrame:
    """One column "line", one row per line (a separator byte that never occurs in log lines)."""
    return pl.read_csv(
        io.BytesIO(chunk),
        separator="\x1f",
        has_header=False,
        quote_char=None,
        new_columns=["line"],
        schema={"line": pl.String},
        truncate_ragged_lines=True,
        encoding="utf8-lossy",
    )
