"""EZproxy / Apache access logs → use per resource, day and campus, with polars on the hot path.

The file is read in large byte chunks (bounded memory whatever its size, gzip or plain), each
chunk parsed by one vectorised regular expression, and only the few distinct hosts, client
addresses and user identities of a chunk go through Python (host → resource, campus ranges,
HMAC). Rules:

- full-text requests (PDF, full text, download, reader...) are "requests"; other pages are
  "investigations"; page furniture (CSS, JS, images, fonts) is not use at all;
- only successful answers count (2xx and 304);
- COUNTER's double-click rule: the same user and URL within 30 seconds count once; clicks are
  compared with the previous one, across chunk boundaries too;
- users are known only by an HMAC keyed with a secret (the login, or address + browser for
  anonymous lines): no login or address is ever stored;
- a line that does not parse is counted, its number kept (the first few), never fatal.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import polars as pl
from django.conf import settings

from lifeline.core.models import Library, parse_ip_ranges
from lifeline.registry.models import AccessRoute, Resource

CHUNK_BYTES = 64 * 1024 * 1024
DOUBLE_CLICK_SECONDS = 30
SAMPLE_BAD_LINES = 20
# One pass gives everything: client, login, time, method, host of an absolute (proxied) URL,
# path, status, and the user agent when the line is in combined format.
LINE_RE = (
    r"^(?P<ip>[0-9A-Fa-f.:]+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "
    r'"(?P<method>[A-Z]+) (?:[a-zA-Z][a-zA-Z0-9+.-]*://(?P<host>[^/:\s?#"]+)(?::\d+)?)?'
    r'(?P<path>[^\s"]*)[^"]*" '
    r'(?P<status>\d{3}) \S+(?: "[^"]*" "(?P<agent>[^"]*)")?'
)
FURNITURE_RE = (
    r"(?i)\.(?:css|js|mjs|png|jpe?g|gif|ico|svg|webp|bmp|woff2?|ttf|eot|otf|map)(?:[?#;]|$)"
)
FULLTEXT_RE = (
    r"(?i)(?:\.pdf|\.caj|\.kdh|\.nh|\.epub|/pdf|pdf/|fulltext|full-text|full_text|/download|download\.aspx|"
    r"getpdf|viewpdf|/epdf|/reader|/read/|/doi/pdf|/content/pdf|/stamp/stamp\.jsp|/ft/|/article/fulltext)"
)
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


@dataclass
class LogResult:
    lines: int = 0
    parsed: int = 0
    unparseable: int = 0
    bad_line_numbers: list[int] = field(default_factory=list)
    furniture: int = 0
    unsuccessful: int = 0
    unmatched: int = 0
    double_clicks: int = 0
    # (resource id, day, on campus) → [full-text requests, investigations]
    usage: dict[tuple[int, dt.date, bool], list[int]] = field(default_factory=dict)
    # (resource id, day, on campus) → distinct user hashes
    users: dict[tuple[int, dt.date, bool], set[str]] = field(default_factory=dict)
    unmatched_hosts: dict[str, int] = field(default_factory=dict)

    def requests(self) -> int:
        return sum(v[0] for v in self.usage.values())

    def investigations(self) -> int:
        return sum(v[1] for v in self.usage.values())


def user_key() -> bytes:
    return hashlib.sha256(b"lifeline-log-users:" + settings.SECRET_KEY.encode()).digest()


def hash_user(identity: str, key: bytes) -> str:
    return hmac.new(key, identity.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[
        :20
    ]


class HostResolver:
    """Log host → resource id, from the resources' homepages and their access routes' hosts.

    EZproxy "proxy by hostname" hosts (www-cnki-net.ezproxy.example.edu) are turned back into
    the vendor's host first; a host unknown as such is tried without its leading labels
    (kns.cnki.net → cnki.net), so one route covers a vendor's sub-sites.
    """

    def __init__(self, library: Library) -> None:
        self.hosts: dict[str, int] = {}
        for route in AccessRoute.objects.filter(resource__library=library).select_related(
            "resource"
        ):
            self._add(route.hostname(), route.resource_id)
        for resource in Resource.objects.filter(library=library).exclude(homepage=""):
            self._add((urlsplit(resource.homepage).hostname or "").lower(), resource.pk)
        proxy = (urlsplit(library.proxy_prefix).hostname or "").lower()
        self.proxy_suffix = "." + proxy if proxy else ""
        self.cache: dict[str, int | None] = {}

    def _add(self, host: str, resource_id: int) -> None:
        if host:
            self.hosts.setdefault(host, resource_id)
            if host.startswith("www."):
                self.hosts.setdefault(host[4:], resource_id)

    def __call__(self, host: str | None) -> int | None:
        if not host:
            return None
        if host in self.cache:
            return self.cache[host]
        name = host
        if self.proxy_suffix and name.endswith(self.proxy_suffix):
            name = (
                name[: -len(self.proxy_suffix)]
                .replace("--", "\x00")
                .replace("-", ".")
                .replace("\x00", "-")
            )
        found = None
        labels = name.split(".")
        for i in range(len(labels) - 1):
            found = self.hosts.get(".".join(labels[i:]))
            if found is not None:
                break
        self.cache[host] = found
        return found


class CampusTest:
    def __init__(self, library: Library) -> None:
        self.networks = parse_ip_ranges(library.campus_ip_ranges)
        self.cache: dict[str, bool] = {}

    def __call__(self, address: str) -> bool:
        hit = self.cache.get(address)
        if hit is None:
            import ipaddress

            try:
                ip = ipaddress.ip_address(address)
                hit = any(ip in net for net in self.networks)
            except ValueError:
                hit = False
            if len(self.cache) < 1_000_000:
                self.cache[address] = hit
        return hit


def open_log(path: Path) -> IO[bytes]:
    return open_log_stream(path.open("rb"))


def open_log_stream(raw: IO[bytes]) -> IO[bytes]:
    """The stream itself, or a gunzipping view of it when it starts with the gzip magic."""
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


def chunks(stream: IO[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Whole lines, about `size` bytes at a time (a line longer than `size` is kept whole)."""
    rest = b""
    while True:
        block = stream.read(size)
        if not block:
            if rest:
                yield rest
            return
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        yield block[: cut + 1]


FIELDS = ["ip", "ident", "user", "date", "tz", "request", "status", "size", "referer", "agent"]


def fields_fast(chunk: bytes) -> pl.DataFrame | None:
    """Tokenise a chunk as space-separated, quote-aware columns (polars' CSV reader: native,
    multi-threaded, several times faster than a capturing regular expression), then split the
    request into host and path with plain string splits. Rows that do not have the shape of a
    log line get a null `ip` (counted as unparseable)."""
    try:
        raw = pl.read_csv(
            io.BytesIO(chunk),
            separator=" ",
            quote_char='"',
            has_header=False,
            schema=dict.fromkeys(FIELDS, pl.String),
            truncate_ragged_lines=True,
            encoding="utf8-lossy",
        )
    except pl.exceptions.PolarsError:
        return None
    request = pl.col("request").str.splitn(" ", 3)
    url = request.struct.field("field_1")
    parts = url.str.splitn("/", 4)
    absolute = parts.struct.field("field_0").str.ends_with(":") & (
        parts.struct.field("field_1") == ""
    )
    shaped = (
        pl.col("ip").is_not_null()
        & pl.col("date").str.starts_with("[")
        & pl.col("tz").str.ends_with("]")
        & (pl.col("status").str.len_bytes() == 3)
        & url.is_not_null()
    )
    return raw.with_row_index("n").select(
        "n",
        pl.when(shaped).then(pl.col("ip")).alias("ip"),
        "user",
        (pl.col("date").str.slice(1) + " " + pl.col("tz").str.head(-1)).alias("ts"),
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
        "status",
        "agent",
    )


def fields_regex(chunk: bytes) -> pl.DataFrame:
    """The same columns through one regular expression per line (the robust, slower path)."""
    return (
        read_lines(chunk)
        .with_row_index("n")
        .with_columns(pl.col("line").str.extract_groups(LINE_RE).alias("f"))
        .unnest("f")
        .with_columns(pl.col("host").str.to_lowercase())
        .select("n", "ip", "user", "ts", "host", "path", "status", "agent")
    )


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


class LogAnalyser:
    def __init__(
        self, library: Library, *, key: bytes | None = None, tz: str | None = None
    ) -> None:
        self.resolver = HostResolver(library)
        self.campus = CampusTest(library)
        self.key = key or user_key()
        self.tz = tz or settings.TIME_ZONE
        self.result = LogResult()
        self.user_hashes: dict[str, str] = {}
        # Last click per (user, url) of the previous chunk's final 30 s: the double-click rule
        # must see across chunk boundaries.
        self.carry = pl.DataFrame(schema={"uid": pl.String, "url": pl.String, "t": pl.Int64})

    def _hash(self, identity: str) -> str:
        found = self.user_hashes.get(identity)
        if found is None:
            found = hash_user(identity, self.key)
            if len(self.user_hashes) < 2_000_000:
                self.user_hashes[identity] = found
        return found

    def feed(self, chunk: bytes) -> None:
        first_line = self.result.lines + 1
        expected = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
        parsed = fields_fast(chunk)
        if parsed is None or parsed.height != expected:
            # An unbalanced quote or a blank line upsets the tokenizer: this chunk goes
            # through the (slower) line-by-line regular expression instead.
            parsed = fields_regex(chunk)
        self.result.lines += parsed.height
        bad = parsed.filter(pl.col("ip").is_null())
        if bad.height:
            self.result.unparseable += bad.height
            room = SAMPLE_BAD_LINES - len(self.result.bad_line_numbers)
            if room > 0:
                self.result.bad_line_numbers.extend(
                    first_line + int(n) for n in bad["n"].head(room)
                )
        ok = parsed.filter(pl.col("ip").is_not_null()).drop("n")
        self.result.parsed += ok.height
        status = pl.col("status").cast(pl.Int32)
        good = (status >= 200) & (status < 300) | (status == 304)
        self.result.unsuccessful += ok.height - ok.select(good.sum()).item()
        ok = ok.filter(good)
        hosts = ok["host"].unique().drop_nulls().to_list()
        mapping = {h: self.resolver(h) for h in hosts}
        ok = ok.with_columns(
            pl.col("host").replace_strict(mapping, default=None, return_dtype=pl.Int64).alias("rid")
        )
        unmatched = ok.filter(pl.col("rid").is_null())
        if unmatched.height:
            self.result.unmatched += unmatched.height
            for host, n in unmatched.group_by("host").len().iter_rows():
                key = host or "(no host)"
                self.result.unmatched_hosts[key] = self.result.unmatched_hosts.get(key, 0) + n
        ok = ok.filter(pl.col("rid").is_not_null())
        furniture = pl.col("path").str.contains(FURNITURE_RE)
        self.result.furniture += ok.select(furniture.sum()).item()
        ok = ok.filter(~furniture)
        if not ok.height:
            return
        ok = ok.with_columns(
            pl.col("path").str.contains(FULLTEXT_RE).alias("fulltext"),
            pl.col("ts")
            .str.strptime(pl.Datetime("us", "UTC"), TIME_FORMAT, strict=False)
            .alias("when"),
            pl.when(pl.col("user") != "-")
            .then(pl.col("user"))
            .otherwise(pl.col("ip") + "|" + pl.col("agent").fill_null(""))
            .alias("identity"),
            (pl.col("host") + pl.col("path")).alias("url"),
        )
        bad_time = ok["when"].null_count()
        if bad_time:
            self.result.unparseable += bad_time
            self.result.parsed -= bad_time
            ok = ok.filter(pl.col("when").is_not_null())
        identities = ok["identity"].unique().to_list()
        ok = ok.with_columns(
            pl.col("identity")
            .replace_strict({i: self._hash(i) for i in identities}, return_dtype=pl.String)
            .alias("uid"),
            pl.col("ip")
            .replace_strict(
                {ip: self.campus(ip) for ip in ok["ip"].unique().to_list()}, return_dtype=pl.Boolean
            )
            .alias("on_campus"),
            pl.col("when").dt.epoch("s").alias("t"),
            pl.col("when").dt.convert_time_zone(self.tz).dt.date().alias("day"),
        ).select("uid", "url", "t", "rid", "day", "on_campus", "fulltext")
        self._count(ok)

    def _count(self, rows: pl.DataFrame) -> None:
        ghosts = self.carry.with_columns(
            pl.lit(None, pl.Int64).alias("rid"),
            pl.lit(None, pl.Date).alias("day"),
            pl.lit(None, pl.Boolean).alias("on_campus"),
            pl.lit(None, pl.Boolean).alias("fulltext"),
            pl.lit(True).alias("ghost"),
        )
        rows = pl.concat(
            [ghosts, rows.with_columns(pl.lit(False).alias("ghost"))], how="vertical_relaxed"
        )
        rows = rows.sort("uid", "url", "t", maintain_order=True)
        same = (pl.col("uid") == pl.col("uid").shift(1)) & (pl.col("url") == pl.col("url").shift(1))
        repeat = same & ((pl.col("t") - pl.col("t").shift(1)) <= DOUBLE_CLICK_SECONDS)
        rows = rows.with_columns(repeat.fill_null(False).alias("repeat"))
        latest = rows["t"].max()
        self.carry = (
            rows.filter(pl.col("t") >= latest - DOUBLE_CLICK_SECONDS)
            .group_by("uid", "url")
            .agg(pl.col("t").max())
            if latest is not None
            else self.carry
        )
        real = rows.filter(~pl.col("ghost"))
        self.result.double_clicks += real.select(pl.col("repeat").sum()).item()
        counted = real.filter(~pl.col("repeat"))
        per = counted.group_by("rid", "day", "on_campus").agg(
            pl.col("fulltext").sum().alias("requests"),
            (~pl.col("fulltext")).sum().alias("investigations"),
        )
        for rid, day, on_campus, requests, investigations in per.iter_rows():
            slot = self.result.usage.setdefault((rid, day, on_campus), [0, 0])
            slot[0] += requests
            slot[1] += investigations
        for rid, day, on_campus, uids in (
            counted.group_by("rid", "day", "on_campus").agg(pl.col("uid").unique()).iter_rows()
        ):
            self.result.users.setdefault((rid, day, on_campus), set()).update(uids)


def analyse(
    library: Library,
    stream: IO[bytes],
    *,
    total_bytes: int = 0,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int, int], Any] | None = None,
    key: bytes | None = None,
) -> LogResult:
    analyser = LogAnalyser(library, key=key)
    done = 0
    for chunk in chunks(stream, chunk_bytes):
        analyser.feed(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total_bytes)
    return analyser.result
