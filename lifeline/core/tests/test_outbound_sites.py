"""Every way out of the package goes through `core.outbound` (issue 21, finding 1).

The test reads the source of every module of `lifeline` (tests and migrations aside) and lists
each call that opens a network connection or builds an HTTP client: httpx, aiohttp, requests,
urllib.request, urllib3, http.client, socket, asyncio streams, ftplib/smtplib/telnetlib. Only
`core/outbound.py` and the health prober (asynchronous, the same `is_internal` rule through
`health/logic/targets.py`) may make one. Any other module that fetches a URL (SUSHI, webhooks,
ISO 18626 peers, federation metadata, delivery by URL) calls `outbound.fetch` and passes here
without being listed; a module that builds its own client fails with its file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lifeline

PACKAGE = Path(lifeline.__file__).resolve().parent
# The only modules that may open connections themselves.
ALLOWED = {
    "core/outbound.py": "the one outbound-fetch helper",
    "health/logic/probe.py": "the asynchronous prober; checks each address with is_internal",
    "core/outbound_plain.py": "the helper's kept plain-HTTP connections (to checked addresses)",
    "delivery/peer.py": "the stand-in ISO 18626 peer (tests, demo): loopback targets only",
}
# module → attributes that open a connection or make a client that will.
NETWORK_CALLS: dict[str, set[str] | None] = {
    "httpx": {
        "Client",
        "AsyncClient",
        "HTTPTransport",
        "AsyncHTTPTransport",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "request",
        "stream",
    },
    "aiohttp": {"ClientSession", "TCPConnector", "request", "UnixConnector"},
    "requests": None,  # any use
    "urllib3": None,
    "pycurl": None,
    "urllib.request": {"urlopen", "build_opener", "urlretrieve", "OpenerDirector"},
    "http.client": {"HTTPConnection", "HTTPSConnection"},
    "socket": {"create_connection", "socket", "fromfd"},
    "asyncio": {"open_connection"},
    "ftplib": None,
    "smtplib": None,
    "telnetlib": None,
    "xmlrpc.client": None,
}
# Method names that open connections whatever object they are called on (event loops, sockets).
NETWORK_METHODS = {"create_connection", "open_connection", "urlopen", "sock_connect"}


def _modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if "tests" not in p.relative_to(PACKAGE).parts
        and "migrations" not in p.relative_to(PACKAGE).parts
    )


def _bindings(tree: ast.Module) -> dict[str, str]:
    """Local name → dotted origin, for the imports of the watched modules."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _is_network(origin: str) -> bool:
    for module, attrs in NETWORK_CALLS.items():
        if origin == module and attrs is None:
            return True
        if origin.startswith(module + "."):
            rest = origin[len(module) + 1 :]
            if attrs is None or rest.split(".")[0] in attrs:
                return True
    return False


def call_sites(path: Path) -> list[str]:
    return sites_in(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())


def sites_in(source: str, rel: str) -> list[str]:
    """'file:line origin' for each network call in one module's source."""
    tree = ast.parse(source, rel)
    names = _bindings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        dotted = _dotted(node.func)
        if dotted is not None:
            head, _, rest = dotted.partition(".")
            origin = names.get(head)
            if origin is not None:
                full = f"{origin}.{rest}" if rest else origin
                if _is_network(full):
                    found.append(f"{rel}:{node.lineno} {full}")
                    continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in NETWORK_METHODS:
            found.append(f"{rel}:{node.lineno} .{node.func.attr}()")
    return found


def test_the_scanner_sees_what_it_must() -> None:
    """The detector is real: it finds the helper's and the prober's own clients."""
    assert any("httpx.Client" in s for s in call_sites(PACKAGE / "core" / "outbound.py"))
    assert any("aiohttp.ClientSession" in s for s in call_sites(PACKAGE / "health/logic/probe.py"))


def test_scanner_catches_each_form() -> None:
    source = (
        "import httpx\nimport urllib.request as ur\nfrom socket import create_connection\n"
        "from http.client import HTTPSConnection\nimport requests\nimport asyncio\n"
        "httpx.get('u')\nur.urlopen('u')\ncreate_connection(('h', 1))\nHTTPSConnection('h')\n"
        "requests.Session()\nasyncio.get_event_loop().create_connection(None)\n"
        "with httpx.Client() as c:\n    pass\n"
        "r = httpx.Response(200)\n"  # building a response opens nothing
        "t: httpx.BaseTransport | None = None\n"
    )
    found = sites_in(source, "bad.py")
    assert len(found) == 7, found
    assert not any("Response" in f for f in found)


def test_no_module_but_the_helper_and_the_prober_opens_a_connection() -> None:
    offenders: list[str] = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in ALLOWED:
            continue
        offenders += call_sites(path)
    assert not offenders, (
        "these modules reach the network without lifeline.core.outbound.fetch "
        "(SSRF guard, address pinning, redirect and size limits):\n" + "\n".join(offenders)
    )


def test_the_prober_applies_the_same_rule() -> None:
    source = (PACKAGE / "health" / "logic" / "probe.py").read_text(encoding="utf-8")
    assert "checked_address(" in source
    targets = (PACKAGE / "health" / "logic" / "targets.py").read_text(encoding="utf-8")
    assert "from lifeline.core.outbound import" in targets and "is_internal" in targets


def test_features_that_fetch_urls_use_the_helper() -> None:
    """SUSHI and webhooks (and whoever else fetches) call outbound.fetch."""
    users = sorted(
        p.relative_to(PACKAGE).as_posix()
        for p in _modules()
        if "outbound.fetch(" in p.read_text(encoding="utf-8")
    )
    assert {"analytics/sushi.py", "core/notify.py"} <= set(users), users
