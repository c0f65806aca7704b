"""The library of failure signatures: pages that answer HTTP 200 but are a failure.

The commonest remote-access failures do not fail at the HTTP level: EZproxy's "host not
configured" page, a Shibboleth/CARSI SP or IdP error page, a vendor's "IP not authorised /
机构用户未登录" page. Each platform's signatures live in one YAML file under
`lifeline/health/signatures/` (versioned with the code; see the README there), each with a saved
sample page that the tests probe. Every probe applies the signatures of the platform its URL
belongs to (by host name, also in EZproxy's proxy-by-hostname form) and those marked
`everywhere` (EZproxy, Shibboleth), on top of the route's own keywords.

Files are loaded and checked once at start (`HealthConfig.ready`): a broken pattern, a missing
sample or an unknown field stops the start with the file and signature named, rather than a
prober that silently misses a failure. The set of signatures for a host is chosen once (cached);
on each page, plain substring search for every signature's required literals comes first, and
only signatures whose literal is present run their regular expression (see `Matcher`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from django.conf import settings

from lifeline.health.choices import HealthState

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "signatures"
FILE_FIELDS = {"platform", "name", "version", "hosts", "vendors", "everywhere", "signatures"}
SIGNATURE_FIELDS = {"id", "pattern", "meaning", "state", "sample"}
SEVERITIES = {HealthState.DOWN.value, HealthState.DEGRADED.value}
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
HOST_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$")


class SignatureError(Exception):
    """A signature file that cannot be used; the message names the file and the signature."""


@dataclass(frozen=True)
class Signature:
    platform: str
    id: str
    pattern: str
    meaning: str
    state: str
    sample: Path

    @property
    def label(self) -> str:
        return f"{self.platform}/{self.id}"


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    version: str
    hosts: tuple[str, ...]
    everywhere: bool
    signatures: tuple[Signature, ...]
    source: Path
    # Vendor keys (registry `Vendor.key`) that mean this platform, besides its own key.
    vendors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    signature: Signature
    version: str
    found: str


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Literal strings (lower case) one of which every match of `pattern` must contain, or None
    when the pattern has no such literal. Read from the parsed pattern: the longest mandatory
    literal run, through groups, alternations (one literal per branch) and repeats of one or more.
    """
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]

    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}

    def req(seq: Any) -> list[str] | None:
        candidates: list[list[str]] = []
        run = ""
        for op, av in seq:
            if op is c.LITERAL:
                run += chr(av)
                continue
            if run:
                candidates.append([run])
                run = ""
            found: list[str] | None = None
            if op is c.SUBPATTERN:
                found = req(av[3])
            elif op is getattr(c, "ATOMIC_GROUP", None):
                found = req(av)
            elif op is c.BRANCH:
                branches = [req(b) for b in av[1]]
                if all(b is not None for b in branches):
                    found = [x for b in branches for x in b or []]
            elif op in repeats and av[0] >= 1:
                found = req(av[2])
            if found:
                candidates.append(found)
        if run:
            candidates.append([run])
        if not candidates:
            return None
        return max(candidates, key=lambda alts: min(len(a) for a in alts))

    found = req(parser.parse(pattern, re.IGNORECASE))
    if not found or min(len(a) for a in found) < 2:
        return None
    return tuple(sorted({a.lower() for a in found}))


class Matcher:
    """The signatures of a set of platforms. Regular expressions are slow on long pages (every
    branch is tried at every position: ~17 ms on a 200 KB page), so each signature's required
    literals are looked for first with plain substring search, and only the signatures whose
    literal is on the page run their expression."""

    def __init__(self, platforms: list[Platform]) -> None:
        self.signatures: list[tuple[Signature, str, re.Pattern[str]]] = [
            (s, p.version, re.compile(s.pattern, re.IGNORECASE))
            for p in platforms
            for s in p.signatures
        ]
        self.literals = [required_literals(s.pattern) for s, _v, _r in self.signatures]

    def search(self, text: str) -> Match | None:
        if not self.signatures:
            return None
        lower = text.lower()
        best: tuple[int, int, re.Match[str]] | None = None
        for index, (_s, _v, regex) in enumerate(self.signatures):
            literals = self.literals[index]
            if literals is not None and not any(lit in lower for lit in literals):
                continue
            found = regex.search(text)
            if found is not None and (best is None or found.start() < best[0]):
                best = (found.start(), index, found)
        if best is None:
            return None
        signature, version, _regex = self.signatures[best[1]]
        return Match(signature, version, best[2].group(0)[:120])


@dataclass(frozen=True)
class SignatureLibrary:
    platforms: tuple[Platform, ...]

    @property
    def version(self) -> str:
        """One string naming every file's version, shown with each match and on the admin."""
        return ", ".join(f"{p.key} {p.version}" for p in self.platforms)

    def platforms_of_vendor(self, vendor_key: str) -> tuple[str, ...]:
        return tuple(
            p.key for p in self.platforms if vendor_key == p.key or vendor_key in p.vendors
        )

    def platforms_for(self, host: str) -> tuple[str, ...]:
        return _platforms_for(self, host.lower().rstrip("."))

    def matcher(self, *urls: str, platform: str = "") -> Matcher:
        """The signatures for a probe of these addresses; `platform` names one more platform
        (the key of the resource's vendor, when it is a platform key: "cnki")."""
        keys: set[str] = set(self.platforms_of_vendor(platform)) if platform else set()
        for url in urls:
            if url:
                keys.update(self.platforms_for(urlsplit(url).hostname or ""))
        return _matcher(self, frozenset(keys))


def host_matches(host: str, pattern: str) -> bool:
    """`www.cnki.net` is CNKI's, and so are a proxy's rewritten forms of it: EZproxy's by host
    name (`www.cnki.net.ezproxy.lib.edu.cn`) and with dashes (`www-cnki-net.ezproxy.lib.edu.cn`),
    a WebVPN's (`www-cnki-net-s.vpn.lib.edu.cn`)."""
    if host == pattern or host.endswith("." + pattern):
        return True
    if f".{pattern}." in f".{host}" or host.startswith(pattern + "."):
        return True
    # WebVPN gateways add "-s" for an HTTPS origin: www-cnki-net-s.vpn.lib.edu.cn.
    dashed = pattern.replace(".", "-")
    return any(
        host.startswith(form) or f"-{form}" in host or f".{form}" in host
        for form in (dashed + ".", dashed + "-s.")
    )


@lru_cache(maxsize=4096)
def _platforms_for(lib: SignatureLibrary, host: str) -> tuple[str, ...]:
    return tuple(
        p.key
        for p in lib.platforms
        if p.everywhere or (host and any(host_matches(host, h) for h in p.hosts))
    )


@lru_cache(maxsize=256)
def _matcher(lib: SignatureLibrary, keys: frozenset[str]) -> Matcher:
    return Matcher([p for p in lib.platforms if p.everywhere or p.key in keys])


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise SignatureError(f"{where}: {message}")


def _load_file(path: Path) -> Platform:
    where = path.name
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SignatureError(f"{where}: cannot be read as YAML ({exc})") from exc
    _require(isinstance(data, dict), where, "must be a mapping")
    unknown = set(data) - FILE_FIELDS
    _require(not unknown, where, f"unknown field(s) {', '.join(sorted(unknown))}")
    key = data.get("platform")
    _require(isinstance(key, str) and bool(KEY_RE.match(key)), where, "bad or missing 'platform'")
    _require(isinstance(data.get("name"), str), where, "missing 'name'")
    version = data.get("version")
    _require(isinstance(version, str) and bool(version), where, "missing 'version' (a string)")
    everywhere = data.get("everywhere", False)
    _require(isinstance(everywhere, bool), where, "'everywhere' must be true or false")
    hosts = data.get("hosts") or []
    _require(isinstance(hosts, list), where, "'hosts' must be a list")
    for host in hosts:
        _require(isinstance(host, str) and bool(HOST_RE.match(host)), where, f"bad host {host!r}")
    _require(bool(hosts) or everywhere, where, "give 'hosts' or set 'everywhere: true'")
    vendors = data.get("vendors") or []
    _require(
        isinstance(vendors, list) and all(isinstance(v, str) and KEY_RE.match(v) for v in vendors),
        where,
        "'vendors' must be a list of vendor keys",
    )
    raw = data.get("signatures")
    _require(isinstance(raw, list) and bool(raw), where, "'signatures' must be a non-empty list")
    seen: set[str] = set()
    signatures: list[Signature] = []
    for item in raw:
        _require(isinstance(item, dict), where, "each signature must be a mapping")
        sid = item.get("id")
        _require(
            isinstance(sid, str) and bool(KEY_RE.match(sid)), where, f"bad signature id {sid!r}"
        )
        here = f"{where}, signature {sid}"
        _require(sid not in seen, here, "id used twice")
        seen.add(sid)
        unknown = set(item) - SIGNATURE_FIELDS
        _require(not unknown, here, f"unknown field(s) {', '.join(sorted(unknown))}")
        pattern = item.get("pattern")
        _require(isinstance(pattern, str) and bool(pattern.strip()), here, "missing 'pattern'")
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
            # Global flags such as "(?s)" belong at the start of a pattern, nowhere else.
            re.compile(f"(?P<x>x)|(?P<y>{pattern})", re.IGNORECASE)
        except re.error as exc:
            raise SignatureError(f"{here}: broken pattern {pattern!r} ({exc})") from exc
        # Named groups are reserved (`Match` reports the whole match); an empty match would
        # class every page as failed.
        _require(not compiled.groupindex, here, "named groups are not allowed in a pattern")
        _require(compiled.search("") is None, here, f"pattern {pattern!r} matches an empty page")
        state = item.get("state", HealthState.DOWN.value)
        _require(state in SEVERITIES, here, f"'state' must be one of {sorted(SEVERITIES)}")
        meaning = item.get("meaning")
        _require(isinstance(meaning, str) and bool(meaning), here, "missing 'meaning'")
        sample_name = item.get("sample")
        _require(isinstance(sample_name, str), here, "missing 'sample' (a saved test page)")
        sample = (path.parent / "samples" / str(sample_name)).resolve()
        _require(
            sample.is_relative_to(path.parent.resolve()) and sample.is_file(),
            here,
            f"sample page {sample_name!r} not found under samples/",
        )
        signatures.append(Signature(key, sid, pattern, meaning, str(state), sample))
    return Platform(
        key=key,
        name=data["name"],
        version=version,
        hosts=tuple(h.lower() for h in hosts),
        everywhere=everywhere,
        signatures=tuple(signatures),
        source=path,
        vendors=tuple(vendors),
    )


def load(directories: list[Path]) -> SignatureLibrary:
    """Read every `*.yaml` in the directories; raise SignatureError naming the first fault."""
    platforms: dict[str, Platform] = {}
    for directory in directories:
        for path in sorted(Path(directory).glob("*.yaml")):
            platform = _load_file(path)
            if platform.key in platforms:
                raise SignatureError(
                    f"{path.name}: platform {platform.key!r} already defined in "
                    f"{platforms[platform.key].source.name}"
                )
            platforms[platform.key] = platform
    return SignatureLibrary(tuple(platforms.values()))


def directories() -> list[Path]:
    """The shipped library plus a library's own files (`HEALTH_SIGNATURE_DIRS`)."""
    extra = getattr(settings, "HEALTH_SIGNATURE_DIRS", [])
    return [BUILTIN_DIR, *(Path(d) for d in extra)]


_LIBRARY: list[SignatureLibrary] = []


def library() -> SignatureLibrary:
    if not _LIBRARY:
        _LIBRARY.append(load(directories()))
    return _LIBRARY[0]


def reload() -> SignatureLibrary:
    _LIBRARY.clear()
    _platforms_for.cache_clear()
    _matcher.cache_clear()
    return library()
