"""The rules compiled: one host → rule-chain lookup (Python, per distinct host) and, per chain,
one polars `when/then` expression evaluated over the distinct requests of a chunk (never a Python
loop per line). `RuleSet.classify` does the same for one URL in plain Python: the reference the
vectorised path is tested against, and what `lifeline classify-url` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from lifeline.analytics.logrules.rules import (
    CLASSES,
    INVESTIGATION,
    NONE,
    REQUEST,
    SEARCH,
    Platform,
    Rule,
    load_platforms,
)

FURNITURE_RE = (
    r"(?i)\.(?:css|js|mjs|png|jpe?g|gif|ico|svg|webp|bmp|woff2?|ttf|eot|otf|map)(?:[?#;]|$)"
)
FULLTEXT_RE = (
    r"(?i)(?:\.pdf|\.caj|\.kdh|\.nh|\.epub|/pdf|pdf/|fulltext|full-text|full_text|/download|download\.aspx|"
    r"getpdf|viewpdf|/epdf|/reader|/read/|/doi/pdf|/content/pdf|/stamp/stamp\.jsp|/ft/|/article/fulltext)"
)
SEARCH_RE = r"(?i)(?:/search|[?&](?:q|query|keyword|kw|searchword|term)=)"
UNIT_MAX = 200

GENERIC = [
    Rule(id="generic:furniture", platform="", match=FURNITURE_RE, cls=NONE),
    Rule(id="generic:fulltext", platform="", match=FULLTEXT_RE, cls=REQUEST),
    Rule(id="generic:search", platform="", match=SEARCH_RE, cls=SEARCH),
    Rule(id="generic:page", platform="", match="^", cls=INVESTIGATION),
]
FURNITURE, PAGE = 0, 3
CLASS_CODE = {c: i for i, c in enumerate(CLASSES)}


@dataclass(frozen=True)
class Classification:
    host: str
    platform: str  # "" for a host without rules
    rule: str
    cls: str
    unit: str | None
    unit_kind: str
    data_type: str
    access: str


def proxy_names(host: str, proxy_suffix: str = "") -> list[str]:
    """The host and what it stands for behind an EZproxy "proxy by hostname" name:
    `www-cnki-net.ezproxy.example.edu` → `www.cnki.net` (a doubled dash is a dash)."""
    host = host.lower().rstrip(".")
    names = [host]
    if proxy_suffix and host.endswith(proxy_suffix) and len(host) > len(proxy_suffix):
        names.append(_undash(host[: -len(proxy_suffix)]))
    first, dot, _rest = host.partition(".")
    if dot and "-" in first:
        names.append(_undash(first))
    return names


def _undash(name: str) -> str:
    return name.replace("--", "\x00").replace("-", ".").replace("\x00", "-")


def normalise_unit(unit: str | None, kind: str) -> str | None:
    """The same steps as `unit_expr`, in Python."""
    if unit is None or unit == "":
        return None
    unit = re.sub(r"%3[aA]", ":", re.sub(r"%2[fF]", "/", unit))[:UNIT_MAX]
    if kind == "doi":
        return unit.lower()
    if kind in ("pii", "isbn"):
        return re.sub(r"[-()]", "", unit).upper()
    if kind == "issn":
        unit = unit.upper()
        return unit[:4] + "-" + unit[4:] if len(unit) == 8 else unit
    return unit


def unit_expr(raw: pl.Expr, kind: str) -> pl.Expr:
    unit = (
        raw.str.replace_all(r"%2[fF]", "/").str.replace_all(r"%3[aA]", ":").str.slice(0, UNIT_MAX)
    )
    unit = pl.when(unit != "").then(unit)
    if kind == "doi":
        return unit.str.to_lowercase()
    if kind in ("pii", "isbn"):
        return unit.str.replace_all(r"[-()]", "").str.to_uppercase()
    if kind == "issn":
        upper = unit.str.to_uppercase()
        return (
            pl.when(upper.str.len_chars() == 8)
            .then(upper.str.slice(0, 4) + "-" + upper.str.slice(4))
            .otherwise(upper)
        )
    return unit


class RuleSet:
    """Shipped platforms plus, optionally, one library's own rules (host, Rule) in their order."""

    def __init__(
        self,
        platforms: list[Platform],
        library_rules: list[tuple[str, Rule]] | None = None,
        proxy_suffix: str = "",
    ) -> None:
        self.platforms = {p.key: p for p in platforms}
        self.rules: list[Rule] = list(GENERIC)
        self.platform_hosts: dict[str, str] = {}
        self.platform_chain: dict[str, list[int]] = {}
        for p in platforms:
            codes = []
            for rule in p.rules:
                codes.append(len(self.rules))
                self.rules.append(rule)
            self.platform_chain[p.key] = codes
            for host in p.hosts:
                self.platform_hosts[host] = p.key
        self.library_hosts: dict[str, list[int]] = {}
        for host, rule in library_rules or []:
            self.library_hosts.setdefault(host, []).append(len(self.rules))
            self.rules.append(rule)
        self.proxy_suffix = proxy_suffix
        self.code_of = {r.id: i for i, r in enumerate(self.rules)}
        # A chain is the ordered rule codes for one kind of host; hosts share chains.
        self.chains: list[tuple[str, tuple[int, ...]]] = []
        self._chain_index: dict[tuple[str, tuple[int, ...]], int] = {}
        self._host_cache: dict[str, int] = {}
        self.classes = pl.Series([CLASS_CODE[r.cls] for r in self.rules], dtype=pl.UInt8)

    # -- hosts ---------------------------------------------------------------------------
    def _suffix(self, table: dict[str, Any], name: str) -> tuple[str, Any] | None:
        labels = name.split(".")
        for i in range(len(labels)):
            found = table.get(".".join(labels[i:]))
            if found is not None:
                return ".".join(labels[i:]), found
        return None

    def chain_for(self, host: str | None) -> int:
        """The index of the rule chain for a host (cached)."""
        host = (host or "").lower()
        hit = self._host_cache.get(host)
        if hit is not None:
            return hit
        platform, library, best = "", (), -1
        for name in proxy_names(host, self.proxy_suffix) if host else []:
            found = self._suffix(self.platform_hosts, name)
            if found is not None and len(found[0]) > best:
                best, platform = len(found[0]), found[1]
            own = self._suffix(self.library_hosts, name)
            if own is not None and not library:
                library = tuple(own[1])
        codes = (
            *library,
            FURNITURE,
            *tuple(self.platform_chain.get(platform, ())),
            *tuple(range(1, len(GENERIC))),
        )
        key = (platform, codes)
        index = self._chain_index.get(key)
        if index is None:
            index = self._chain_index[key] = len(self.chains)
            self.chains.append(key)
        if len(self._host_cache) < 100_000:
            self._host_cache[host] = index
        return index

    # -- one URL, plain Python -----------------------------------------------------------
    def classify_path(self, host: str | None, path: str) -> tuple[int, str | None]:
        _platform, codes = self.chains[self.chain_for(host)]
        for code in codes:
            rule = self.rules[code]
            match, also, unit_re = rule.compiled()
            if match.search(path) is None or (also is not None and also.search(path) is None):
                continue
            unit = None
            if rule.unit_kind:
                found = (unit_re or match).search(path)
                unit = normalise_unit(
                    found.group(rule.unit_group) if found else None, rule.unit_kind
                )
            return code, unit
        raise AssertionError("the generic page rule matches everything")  # pragma: no cover

    def classify(self, url: str) -> Classification:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        path = url.strip()
        if parts.scheme and parts.netloc:
            # The path and query as the log gives them (no decoding), like the analysis.
            path = url.strip().split(parts.netloc, 1)[1] or "/"
            path = path.split("#", 1)[0]
        code, unit = self.classify_path(host or None, path)
        rule = self.rules[code]
        platform = self.chains[self.chain_for(host or None)][0]
        return Classification(
            host=host,
            platform=platform,
            rule=rule.id,
            cls=rule.cls,
            unit=unit,
            unit_kind=rule.unit_kind,
            data_type=rule.data_type,
            access=rule.access,
        )

    # -- the distinct requests of a chunk, vectorised ------------------------------------
    def _condition(self, rule: Rule, path: pl.Expr) -> pl.Expr:
        cond = path.str.contains(rule.match)
        return cond & path.str.contains(rule.also) if rule.also else cond

    def chain_exprs(self, index: int, path: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(rule code, unit) expressions for one chain."""
        _platform, codes = self.chains[index]
        *heads, last = codes
        rule_e: Any = pl
        for code in heads:
            rule_e = rule_e.when(self._condition(self.rules[code], path)).then(
                pl.lit(code, pl.UInt16)
            )
        rule_expr = rule_e.otherwise(pl.lit(last, pl.UInt16)) if heads else pl.lit(last, pl.UInt16)
        unit_codes = [c for c in codes if self.rules[c].unit_kind]
        if not unit_codes:
            return rule_expr, pl.lit(None, pl.String)
        unit_e: Any = pl
        for code in unit_codes:
            rule = self.rules[code]
            raw = path.str.extract(rule.unit or rule.match, rule.unit_group)
            unit_e = unit_e.when(pl.col("rule") == code).then(unit_expr(raw, rule.unit_kind))
        return rule_expr, unit_e.otherwise(pl.lit(None, pl.String))

    def classify_frame(self, keys: pl.DataFrame, hosts: list[str | None]) -> pl.DataFrame:
        """`keys` (with columns host, path) plus `rule` (UInt16) and `unit` (String)."""
        chain = {h: self.chain_for(h) for h in hosts}
        keys = keys.with_columns(
            pl.col("host")
            .replace_strict(chain, default=self.chain_for(None), return_dtype=pl.UInt32)
            .alias("chain")
        )
        parts = []
        for (index,), part in keys.partition_by("chain", as_dict=True).items():
            rule_expr, unit = chain_exprs_cached(self, int(index))
            parts.append(
                part.lazy().with_columns(rule_expr.alias("rule")).with_columns(unit.alias("unit"))
            )
        if not parts:
            return keys.with_columns(
                pl.lit(None, pl.UInt16).alias("rule"), pl.lit(None, pl.String).alias("unit")
            )
        # One plan for all chains: polars evaluates the parts in parallel.
        return pl.concat(parts).collect()


def chain_exprs_cached(rules: RuleSet, index: int) -> tuple[pl.Expr, pl.Expr]:
    cached: dict[int, tuple[pl.Expr, pl.Expr]] = rules.__dict__.setdefault("_expr_cache", {})
    found = cached.get(index)
    if found is None:
        found = cached[index] = rules.chain_exprs(index, pl.col("path"))
    return found


@cache
def shipped_platforms() -> list[Platform]:
    """The repository's rules library, loaded and validated once per process."""
    return load_platforms()


def default_rules(proxy_suffix: str = "") -> RuleSet:
    return RuleSet(shipped_platforms(), proxy_suffix=proxy_suffix)
