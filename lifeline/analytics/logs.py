"""EZproxy / Apache access logs → use per resource, day and campus, with polars on the hot path.

The file is read in large byte chunks (bounded memory whatever its size, gzip or plain). A
worker thread reads and tokenises the next chunk (polars' CSV reader, quote-aware; one regular
expression per line only for a chunk whose quotes do not balance) while the calling thread
counts the current one, in order. What hangs on the request (host, path, resource, furniture,
full text) is worked out once per distinct request of the chunk; only the few distinct hosts,
client addresses, time zones and user identities go through Python (host → resource, campus
ranges, HMAC); users and URLs become small integers for the double-click sort. Rules:

- each distinct request is classed by the platform rules (`logrules/`: the library's own rules,
  furniture, the platform's rules in order, then the generic keywords) as a full-text request,
  an investigation, a search or not counted (furniture, journal TOCs, navigation), with the
  unit it names; a line's rule is counted in `rule_hits`;
- title-level use per unit and COUNTER's unique item counts (user + clock hour) come from
  `logsessions.py`;
- only successful answers count (2xx and 304);
- COUNTER's double-click rule: the same user and URL within 30 seconds count once; clicks are
  compared with the previous one, across chunk boundaries too;
- users are known only by an HMAC keyed with a secret (the login, or address + browser for
  anonymous lines): no login or address is ever stored;
- a line that does not parse is counted, its number kept (the first few), never fatal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import polars as pl
from django.conf import settings

from lifeline.analytics.logrules.engine import (
    CLASS_CODE,
    RuleSet,
)
from lifeline.analytics.logrules.engine import FULLTEXT_RE as FULLTEXT_RE  # re-exported
from lifeline.analytics.logrules.engine import FURNITURE_RE as FURNITURE_RE
from lifeline.analytics.logrules.library import library_ruleset
from lifeline.analytics.logrules.rules import INVESTIGATION, NONE, REQUEST, SEARCH
from lifeline.analytics.logsessions import SessionCounter
from lifeline.analytics.logtokens import (
    EPOCH_2000,
    TZ_PROBE,
    Tokens,
    tokenise,
)
from lifeline.analytics.logtokens import LINE_RE as LINE_RE  # re-exported
from lifeline.analytics.logtokens import read_lines as read_lines
from lifeline.analytics.logtokens import tokens_fast as tokens_fast
from lifeline.analytics.logtokens import tokens_regex as tokens_regex
from lifeline.core.models import Library, parse_ip_ranges
from lifeline.core.uploads import open_stream
from lifeline.registry.models import AccessRoute, Resource

CHUNK_BYTES = 64 * 1024 * 1024
# The generic keywords' rules (full text, search, page): a line they class is "unclassified".
GENERIC_CODES = [1, 2, 3]
DOUBLE_CLICK_SECONDS = 30
SAMPLE_BAD_LINES = 20
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


@dataclass
class LogResult:
    lines: int = 0
    parsed: int = 0
    unparseable: int = 0
    bad_line_numbers: list[int] = field(default_factory=list)
    # Lines of known resources that COUNTER does not count: page furniture, journal TOCs,
    # navigation and session pages (class "none" of a rule).
    furniture: int = 0
    unsuccessful: int = 0
    unmatched: int = 0
    double_clicks: int = 0
    # (resource id, day, on campus) → [full-text requests, investigations, searches]
    usage: dict[tuple[int, dt.date, bool], list[int]] = field(default_factory=dict)
    # (resource id, day, on campus) → distinct user hashes
    users: dict[tuple[int, dt.date, bool], set[str]] = field(default_factory=dict)
    unmatched_hosts: dict[str, int] = field(default_factory=dict)
    # Which rule classed the counted lines of known resources: rule id → lines.
    rule_hits: dict[str, int] = field(default_factory=dict)
    # Lines of known resources that only the generic keywords classed: by URL shape on a host
    # with platform rules, by host on a host without any.
    unclassified: dict[str, int] = field(default_factory=dict)
    unruled_hosts: dict[str, int] = field(default_factory=dict)
    # (resource id, month, item) → [Total_Item_Requests, Total_Item_Investigations,
    # Unique_Item_Requests, Unique_Item_Investigations]; item is "kind\tdata type\taccess\tunit".
    items: dict[tuple[int, dt.date, str], list[int]] = field(default_factory=dict)
    unique_requests: int = 0
    unique_investigations: int = 0

    def requests(self) -> int:
        return sum(v[0] for v in self.usage.values())

    def investigations(self) -> int:
        return sum(v[1] for v in self.usage.values())

    def searches(self) -> int:
        return sum(v[2] for v in self.usage.values())


def user_key() -> bytes:
    return hashlib.sha256(b"lifeline-log-users:" + settings.LOG_USER_KEY.encode()).digest()


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


def open_log_stream(raw: IO[bytes], compressed_size: int | None = None) -> IO[bytes]:
    """The stream itself, or a gunzipping view of it when it starts with the gzip magic, behind
    the upload limits of `core.uploads.open_stream` (inflated size, expansion ratio, line
    length: a gzip without line breaks no longer inflates whole into memory, issue 21)."""
    return open_stream(raw, compressed_size=compressed_size)


def chunks(stream: IO[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Whole lines, about `size` bytes at a time (a line longer than `size` is kept whole).

    Each block is read into one reused buffer and completed up to its next line break with
    `readline`: one fresh `size`-byte object per chunk, written once (a fresh allocation of
    that size costs page faults as well as the copy)."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    while True:
        got = stream.readinto(buffer)  # type: ignore[attr-defined]
        if not got:
            return
        tail = b"" if buffer[got - 1] == 0x0A else stream.readline()
        yield b"".join((view[:got], tail))


class LogAnalyser:
    def __init__(
        self,
        library: Library,
        *,
        key: bytes | None = None,
        tz: str | None = None,
        rules: RuleSet | None = None,
    ) -> None:
        self.resolver = HostResolver(library)
        self.rules = rules or library_ruleset(library, self.resolver.proxy_suffix)
        self.classes = {i: CLASS_CODE[r.cls] for i, r in enumerate(self.rules.rules)}
        self.sessions = SessionCounter()
        self.campus = CampusTest(library)
        self.key = key or user_key()
        self.tz = tz or settings.TIME_ZONE
        self.result = LogResult()
        self.user_hashes: dict[str, str] = {}
        self.offsets: dict[str, int | None] = {}
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

    def _offsets(self, zones: list[str]) -> dict[str, int | None]:
        """Seconds east of UTC per distinct "+zzzz]" (None when it does not parse), parsed by
        the same %z as a whole time stamp would be."""
        new = [z for z in zones if z not in self.offsets]
        if len(self.offsets) + len(new) > 10_000:
            # Only garbage makes that many distinct zones: keep the cache bounded.
            self.offsets.clear()
            new = zones
        if new:
            parsed = (
                pl.Series([TZ_PROBE + z[:-1] for z in new])
                .str.strptime(pl.Datetime("us", "UTC"), TIME_FORMAT, strict=False)
                .dt.epoch("s")
            )
            for zone, epoch in zip(new, parsed.to_list(), strict=True):
                self.offsets[zone] = None if epoch is None else EPOCH_2000 - epoch
        return {z: self.offsets[z] for z in zones}

    def finish(self) -> None:
        """The sessions still open counted, the title-level use put into the result."""
        self.sessions.finish(self.result)

    def feed(self, chunk: bytes) -> None:
        self.digest(tokenise(chunk))

    def digest(self, tokens: Tokens) -> None:
        result = self.result
        rows = tokens.rows
        first_line = result.lines + 1
        result.lines += rows.height
        keys = tokens.keys
        hosts = keys["host"].unique().drop_nulls().to_list()
        keys = self.rules.classify_frame(keys, hosts).with_columns(
            pl.col("host")
            .replace_strict(
                {h: self.resolver(h) for h in hosts}, default=None, return_dtype=pl.Int64
            )
            .alias("rid"),
            pl.col("host")
            .replace_strict(
                {h: i for i, h in enumerate(hosts)}, default=None, return_dtype=pl.UInt32
            )
            .alias("host_code"),
            (pl.col("host") + pl.col("path")).alias("url"),
        )
        keys = keys.with_columns(
            pl.col("rule").replace_strict(self.classes, return_dtype=pl.UInt8).alias("cls"),
            # What a line names: the unit when the rule gives one, else the URL itself (for the
            # unique counts only).
            pl.when(pl.col("unit").is_not_null())
            .then(
                pl.col("rule").replace_strict(self.item_prefix(), return_dtype=pl.String)
                + pl.col("unit")
            )
            .otherwise("\t\t\t\t" + pl.col("host") + pl.col("path"))
            .alias("item"),
        ).with_row_index("kid")
        items = keys.select(pl.col("item").unique().drop_nulls()).with_row_index("item_code")
        keys = keys.join(items, on="item", how="left")
        # The double-click rule compares (user, URL) pairs: small integers sort far faster
        # than strings, so each distinct URL of the chunk gets a number.
        urls = keys.select(pl.col("url").unique().drop_nulls()).with_row_index("url_code")
        keys = keys.join(urls, on="url", how="left")
        status = pl.col("status").cast(pl.Int32, strict=False)
        shaped = (
            pl.col("ip").is_not_null()
            & pl.col("valid")
            & pl.col("status").str.contains("^[0-9]{3}$")
        ).fill_null(False)
        good = pl.col("shaped") & ((status >= 200) & (status < 300) | (status == 304))
        matched = pl.col("good") & pl.col("rid").is_not_null()
        used = pl.col("matched") & (pl.col("cls") != CLASS_CODE[NONE])
        # Every rule is a flag first and the rows are filtered once at the end (each filter
        # copies the string columns it keeps); only the key column goes through the join.
        found = (
            rows.select("key")
            .join(
                keys.select(
                    "key",
                    "valid",
                    "rid",
                    "host_code",
                    "cls",
                    "rule",
                    "kid",
                    "url_code",
                    "item_code",
                ),
                on="key",
                how="left",
                maintain_order="left",
            )
            .drop("key")
        )
        rows = (
            rows.hstack(found.get_columns())
            .with_columns(shaped.alias("shaped"))
            .with_columns(good.alias("good"))
            .with_columns(matched.alias("matched"))
            .with_columns(used.alias("used"))
        )
        n_shaped, n_good, n_matched, n_used = rows.select(
            pl.col("shaped").sum(),
            pl.col("good").sum(),
            pl.col("matched").sum(),
            pl.col("used").sum(),
        ).row(0)
        if n_shaped < rows.height:
            result.unparseable += rows.height - n_shaped
            room = SAMPLE_BAD_LINES - len(result.bad_line_numbers)
            if room > 0:
                bad = rows.select(pl.col("n").filter(~pl.col("shaped")).head(room))["n"]
                result.bad_line_numbers.extend(first_line + int(n) for n in bad)
        result.parsed += n_shaped
        result.unsuccessful += n_shaped - n_good
        result.furniture += n_matched - n_used
        if n_matched < n_good:
            result.unmatched += n_good - n_matched
            per_host = (
                rows.select(pl.col("host_code").filter(pl.col("good") & ~pl.col("matched")))
                .group_by("host_code")
                .len()
            )
            for code, n in per_host.iter_rows():
                name = (hosts[code] if code is not None else None) or "(no host)"
                result.unmatched_hosts[name] = result.unmatched_hosts.get(name, 0) + n
        if n_matched:
            self._rules_seen(rows, keys)
        if not n_used:
            return
        ok = rows.filter(pl.col("used")).select(
            "ip", "user", "date", "tz", "agent", "rid", "cls", "url_code", "item_code"
        )
        # "[dd/Mon/yyyy:HH:MM:SS" has a fixed width (polars' fast path for it); the offset is
        # parsed once per distinct zone.
        zones = self._offsets(ok["tz"].unique().drop_nulls().to_list())
        ok = ok.with_columns(
            (
                pl.col("date")
                .str.strptime(pl.Datetime("us"), "[%d/%b/%Y:%H:%M:%S", strict=False)
                .dt.epoch("s")
                - pl.col("tz").replace_strict(zones, default=None, return_dtype=pl.Int64)
            ).alias("t"),
        )
        bad_time = ok["t"].null_count()
        if bad_time:
            result.unparseable += bad_time
            result.parsed -= bad_time
            ok = ok.filter(pl.col("t").is_not_null())
        ok = ok.with_columns(
            pl.when(pl.col("user") != "-")
            .then(pl.col("user"))
            .otherwise(pl.col("ip") + "|" + pl.col("agent").fill_null(""))
            .alias("identity"),
        )
        # Each distinct user is hashed once; a number stands for it in the chunk.
        uid_of: dict[str, int] = {}
        identities = ok.select(pl.col("identity").unique())["identity"].to_list()
        codes = [uid_of.setdefault(self._hash(i), len(uid_of)) for i in identities]
        uids = pl.DataFrame(
            {"uid": list(uid_of), "uid_code": range(len(uid_of))},
            schema={"uid": pl.String, "uid_code": pl.UInt32},
        )
        addresses = ok.select(pl.col("ip").unique())["ip"].to_list()
        # Line order is kept: equal times then break ties as in the log.
        ok = (
            ok.join(
                pl.DataFrame(
                    {"identity": identities, "uid_code": codes},
                    schema={"identity": pl.String, "uid_code": pl.UInt32},
                ),
                on="identity",
                how="left",
                maintain_order="left",
            )
            .join(
                pl.DataFrame(
                    {"ip": addresses, "on_campus": [self.campus(a) for a in addresses]},
                    schema={"ip": pl.String, "on_campus": pl.Boolean},
                ),
                on="ip",
                how="left",
                maintain_order="left",
            )
            .select(
                "uid_code",
                "url_code",
                "t",
                "rid",
                pl.from_epoch("t", "s")
                .dt.replace_time_zone("UTC")
                .dt.convert_time_zone(self.tz)
                .dt.date()
                .alias("day"),
                "on_campus",
                "cls",
                "item_code",
            )
        )
        self._count(ok, uids, urls, items)

    def item_prefix(self) -> dict[int, str]:
        found: dict[int, str] | None = self.__dict__.get("_prefix")
        if found is None:
            found = self.__dict__["_prefix"] = {
                i: f"{r.unit_kind}\t{r.data_type}\t{r.access}\t{r.platform}\t"
                for i, r in enumerate(self.rules.rules)
            }
        return found

    def _rules_seen(self, rows: pl.DataFrame, keys: pl.DataFrame) -> None:
        """Lines per rule; lines that only the generic keywords classed, by URL shape (host with
        rules) or by host (host without rules)."""
        result = self.result
        hits = rows.filter(pl.col("matched")).group_by("rule", "kid").len()
        names = self.rules.rules
        for code, n in hits.group_by("rule").agg(pl.col("len").sum()).iter_rows():
            rule_id = names[code].id
            result.rule_hits[rule_id] = result.rule_hits.get(rule_id, 0) + n
        generic = hits.filter(pl.col("rule").is_in(GENERIC_CODES))
        if generic.height:
            chains = self.rules.chains
            shaped = (
                generic.join(keys.select("kid", "host", "path", "chain"), on="kid", how="left")
                .with_columns(
                    pl.col("chain")
                    .replace_strict(
                        {i: bool(c[0]) for i, c in enumerate(chains)}, return_dtype=pl.Boolean
                    )
                    .alias("ruled"),
                    (
                        pl.col("host")
                        + pl.col("path")
                        .str.slice(0, 300)
                        .str.replace_all(r"=[^&]*", "=")
                        .str.replace_all(r"[0-9]+", "N")
                    ).alias("shape"),
                )
                .group_by("ruled", "host", "shape")
                .agg(pl.col("len").sum())
            )
            for ruled, host, shape, n in shaped.iter_rows():
                target = result.unclassified if ruled else result.unruled_hosts
                name = shape if ruled else host
                if name in target or len(target) < 5000:
                    target[name] = target.get(name, 0) + n

    def _count(
        self, rows: pl.DataFrame, uids: pl.DataFrame, urls: pl.DataFrame, items: pl.DataFrame
    ) -> None:
        """The 30-second rule on this chunk's rows and the clicks carried over from the
        previous chunks, then the daily totals."""
        ghosts = self.carry.join(uids, on="uid", how="left").join(urls, on="url", how="left")
        known = pl.col("uid_code").is_not_null() & pl.col("url_code").is_not_null()
        # A carried click whose user or URL does not occur in this chunk cannot be repeated
        # here; it only stays carried while it is recent.
        elsewhere = ghosts.filter(~known).select("uid", "url", "t")
        ghosts = ghosts.filter(known).select(
            "uid_code",
            "url_code",
            "t",
            pl.lit(None, pl.Int64).alias("rid"),
            pl.lit(None, pl.Date).alias("day"),
            pl.lit(None, pl.Boolean).alias("on_campus"),
            pl.lit(None, pl.UInt8).alias("cls"),
            pl.lit(None, pl.UInt32).alias("item_code"),
            pl.lit(True).alias("ghost"),
        )
        rows = pl.concat(
            [ghosts, rows.with_columns(pl.lit(False).alias("ghost"))], how="vertical_relaxed"
        )
        # (user, URL) as one 64-bit number: a sort on two numeric columns is much cheaper than
        # on three.
        pair = pl.col("uid_code").cast(pl.UInt64) * (1 << 32) + pl.col("url_code").cast(pl.UInt64)
        rows = rows.with_columns(pair.alias("pair")).sort("pair", "t", maintain_order=True)
        same = pl.col("pair") == pl.col("pair").shift(1)
        repeat = same & ((pl.col("t") - pl.col("t").shift(1)) <= DOUBLE_CLICK_SECONDS)
        rows = rows.with_columns(repeat.fill_null(False).alias("repeat"))
        ends = (rows["t"].max(), elsewhere["t"].max())
        latest = max((t for t in ends if isinstance(t, int)), default=None)
        if latest is not None:
            recent = pl.col("t") >= latest - DOUBLE_CLICK_SECONDS
            self.carry = pl.concat(
                [
                    rows.filter(recent)
                    .group_by("uid_code", "url_code")
                    .agg(pl.col("t").max())
                    .join(uids, on="uid_code", how="left")
                    .join(urls, on="url_code", how="left")
                    .select("uid", "url", "t"),
                    elsewhere.filter(recent),
                ]
            )
        real = rows.filter(~pl.col("ghost"))
        self.result.double_clicks += real.select(pl.col("repeat").sum()).item()
        counted = real.filter(~pl.col("repeat"))
        request, investigation, search = (
            pl.col("cls") == CLASS_CODE[REQUEST],
            pl.col("cls") == CLASS_CODE[INVESTIGATION],
            pl.col("cls") == CLASS_CODE[SEARCH],
        )
        per = counted.group_by("rid", "day", "on_campus").agg(
            request.sum().alias("requests"),
            investigation.sum().alias("investigations"),
            search.sum().alias("searches"),
            pl.col("uid_code").unique().alias("uids"),
        )
        self.sessions.add(counted, uids, items)
        names = uids["uid"].to_list()
        for rid, day, on_campus, requests, investigations, searches, codes in per.iter_rows():
            slot = self.result.usage.setdefault((rid, day, on_campus), [0, 0, 0])
            slot[0] += requests
            slot[1] += investigations
            slot[2] += searches
            self.result.users.setdefault((rid, day, on_campus), set()).update(
                names[c] for c in codes
            )


def analyse(
    library: Library,
    stream: IO[bytes],
    *,
    total_bytes: int = 0,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int, int], Any] | None = None,
    key: bytes | None = None,
    rules: RuleSet | None = None,
) -> LogResult:
    analyser = LogAnalyser(library, key=key, rules=rules)
    pieces = chunks(stream, chunk_bytes)

    def produce() -> tuple[Tokens, int] | None:
        chunk = next(pieces, None)
        return None if chunk is None else (tokenise(chunk), len(chunk))

    done = 0
    # Two stages on two cores: a worker thread reads and tokenises the next chunk (polars and
    # zlib let go of the GIL) while this thread counts the current one; counting stays in
    # order, as the double-click rule needs.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-reader") as pool:
        ahead = pool.submit(produce)
        while (item := ahead.result()) is not None:
            ahead = pool.submit(produce)
            tokens, size = item
            analyser.digest(tokens)
            done += size
            if progress is not None:
                progress(done, total_bytes)
    analyser.finish()
    return analyser.result
