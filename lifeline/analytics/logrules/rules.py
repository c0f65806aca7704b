"""Platform rules as data: one YAML file per platform, loaded and validated once.

A platform file names its hosts (a host covers its sub-domains: `cnki.net` covers
`kns.cnki.net`) and an ordered list of rules. A rule says which requests it claims (`match`, a
regular expression searched in the path and query; `also`, an optional second one that must
match too) and what they are in COUNTER terms (`class`: request, investigation, search, none)
and what they name (`unit_kind` with the `unit` group of `match` or of a separate `unit`
expression; `data_type`; `access`). Patterns must compile both in Python's `re` and in polars'
(Rust) regex engine, so the line-by-line reference and the vectorised analysis agree; a broken
file is refused with its name and the rule's id.

Precedence, for one request (tested in `tests/test_logrules.py`):
1. the library's own rules for the host, in the order staff listed them;
2. page furniture (style sheets, scripts, images, fonts): never use;
3. the platform's rules, in file order: the first that matches wins;
4. the generic keywords (full text, search, otherwise an investigation), which are also all
   that hosts without a platform file get.
A host belongs to the platform with the longest matching host suffix; two files claiming the
same host are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

PLATFORM_DIR = Path(__file__).parent / "platforms"
SCHEMA_VERSION = 1

REQUEST, INVESTIGATION, SEARCH, NONE = "request", "investigation", "search", "none"
CLASSES = (REQUEST, INVESTIGATION, SEARCH, NONE)
UNIT_KINDS = ("doi", "pii", "issn", "isbn", "proprietary")
DATA_TYPES = (
    "journal",
    "book",
    "thesis",
    "newspaper",
    "conference",
    "standard",
    "patent",
    "database",
    "multimedia",
    "reference",
    "other",
)
ACCESS_TYPES = ("controlled", "open")
RULE_KEYS = {"id", "match", "also", "class", "unit", "unit_kind", "data_type", "access", "note"}
PLATFORM_KEYS = {"platform", "name", "version", "hosts", "source", "data_type", "rules", "tests"}
TEST_KEYS = {"url", "class", "unit", "rule"}
HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class RuleError(ValueError):
    """A rules file (or a library's rule) that cannot be used: says which and why."""


@dataclass(frozen=True)
class Rule:
    id: str  # "platform:rule"
    platform: str
    match: str
    cls: str
    also: str = ""
    unit: str = ""  # the expression whose `unit` group (or first group) is the unit
    unit_group: int = 0
    unit_kind: str = ""
    data_type: str = ""
    access: str = "controlled"
    note: str = ""

    def compiled(self) -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]:
        return _compiled(self.match, self.also, self.unit)


_CACHE: dict[tuple[str, str, str], Any] = {}


def _compiled(
    match: str, also: str, unit: str
) -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]:
    key = (match, also, unit)
    found = _CACHE.get(key)
    if found is None:
        found = (
            re.compile(match),
            re.compile(also) if also else None,
            re.compile(unit) if unit else None,
        )
        _CACHE[key] = found
    return found


@dataclass(frozen=True)
class UrlTest:
    url: str
    cls: str
    unit: str | None = None
    rule: str | None = None


@dataclass
class Platform:
    key: str
    name: str
    version: int
    hosts: tuple[str, ...]
    rules: list[Rule]
    tests: list[UrlTest] = field(default_factory=list)
    source: str = ""
    filename: str = ""


def check_pattern(pattern: str, where: str) -> re.Pattern[str]:
    """The pattern compiled, or RuleError naming `where`: it must be valid for Python AND polars
    (Rust's engine has no look-around or back-references), and not empty."""
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"{where}: empty pattern")
    if len(pattern) > 2000:
        raise RuleError(f"{where}: pattern longer than 2000 characters")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"{where}: invalid pattern {pattern!r}: {exc}") from exc
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuleError(
            f"{where}: pattern not supported by the vectorised engine: {first}"
        ) from exc
    return compiled


def make_rule(raw: Any, platform: str, where: str, defaults: dict[str, str]) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule must be a mapping")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    rule_id = str(raw.get("id", ""))
    if not KEY_RE.match(rule_id):
        raise RuleError(f"{where}: missing or malformed rule id {rule_id!r}")
    where = f"{where} (rule {rule_id})"
    cls = raw.get("class")
    if cls not in CLASSES:
        raise RuleError(f"{where}: unknown class {cls!r} (one of {', '.join(CLASSES)})")
    match = check_pattern(raw.get("match", ""), f"{where} match")
    also = str(raw.get("also", "") or "")
    if also:
        check_pattern(also, f"{where} also")
    unit = str(raw.get("unit", "") or "")
    unit_kind = str(raw.get("unit_kind", "") or "")
    group = 0
    if unit_kind:
        if unit_kind not in UNIT_KINDS:
            raise RuleError(f"{where}: unknown unit_kind {unit_kind!r}")
        source = check_pattern(unit, f"{where} unit") if unit else match
        group = source.groupindex.get("unit", 1 if source.groups else 0)
        if not group:
            raise RuleError(f"{where}: unit_kind {unit_kind!r} needs a (?P<unit>...) group")
    elif unit or "unit" in match.groupindex:
        raise RuleError(f"{where}: a unit group needs a unit_kind")
    data_type = str(raw.get("data_type", defaults.get("data_type", "")) or "")
    if data_type and data_type not in DATA_TYPES:
        raise RuleError(f"{where}: unknown data_type {data_type!r}")
    access = str(raw.get("access", "controlled"))
    if access not in ACCESS_TYPES:
        raise RuleError(f"{where}: unknown access {access!r}")
    return Rule(
        id=f"{platform}:{rule_id}",
        platform=platform,
        match=match.pattern,
        cls=cls,
        also=also,
        unit=unit,
        unit_group=group,
        unit_kind=unit_kind,
        data_type=data_type,
        access=access,
        note=str(raw.get("note", "") or ""),
    )


def check_host(host: Any, where: str) -> str:
    name = str(host).strip().lower().rstrip(".")
    if not HOST_RE.match(name) or len(name) > 253:
        raise RuleError(f"{where}: malformed host {host!r}")
    return name


def load_platform(path: Path) -> Platform:
    where = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleError(f"{where}: cannot be read: {exc}") from exc
    return platform_from_dict(raw, where)


def platform_from_dict(raw: Any, where: str) -> Platform:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: the file must hold a mapping")
    unknown = set(raw) - PLATFORM_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    key = str(raw.get("platform", ""))
    if not KEY_RE.match(key):
        raise RuleError(f"{where}: missing or malformed platform key {key!r}")
    if raw.get("version") != SCHEMA_VERSION:
        raise RuleError(f"{where}: version must be {SCHEMA_VERSION}")
    hosts = raw.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        raise RuleError(f"{where}: hosts must be a non-empty list")
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise RuleError(f"{where}: rules must be a non-empty list")
    defaults = {"data_type": str(raw.get("data_type", "") or "")}
    if defaults["data_type"] and defaults["data_type"] not in DATA_TYPES:
        raise RuleError(f"{where}: unknown data_type {defaults['data_type']!r}")
    rules = [make_rule(r, key, f"{where} rule {i + 1}", defaults) for i, r in enumerate(rules_raw)]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise RuleError(f"{where}: rule ids must be unique")
    tests = []
    for i, t in enumerate(raw.get("tests") or []):
        if not isinstance(t, dict) or set(t) - TEST_KEYS or "url" not in t:
            raise RuleError(f"{where} test {i + 1}: needs url and class only (unit, rule)")
        if t.get("class") not in CLASSES:
            raise RuleError(f"{where} test {i + 1}: unknown class {t.get('class')!r}")
        tests.append(
            UrlTest(
                str(t["url"]),
                str(t["class"]),
                None if t.get("unit") is None else str(t["unit"]),
                None if t.get("rule") is None else str(t["rule"]),
            )
        )
    return Platform(
        key=key,
        name=str(raw.get("name") or key),
        version=int(raw["version"]),
        hosts=tuple(check_host(h, where) for h in hosts),
        rules=rules,
        tests=tests,
        source=str(raw.get("source", "") or ""),
        filename=where,
    )


def load_platforms(directory: Path = PLATFORM_DIR) -> list[Platform]:
    platforms = [load_platform(p) for p in sorted(directory.glob("*.yaml"))]
    seen_keys: dict[str, str] = {}
    seen_hosts: dict[str, str] = {}
    for p in platforms:
        if p.key in seen_keys:
            raise RuleError(f"{p.filename}: platform {p.key!r} also defined in {seen_keys[p.key]}")
        seen_keys[p.key] = p.filename
        for host in p.hosts:
            if host in seen_hosts:
                raise RuleError(
                    f"{p.filename}: host {host!r} already claimed by {seen_hosts[host]}"
                )
            seen_hosts[host] = p.filename
    return platforms
