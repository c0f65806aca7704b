"""One way out: every feature that fetches a URL that staff, a peer or a vendor gave us goes here.

    result = outbound.fetch(url, max_bytes=20 * 2**20, timeout=30)
    result.status, result.headers, result.content, result.url (after redirects)

Server-side request forgery is a class of hole, not an instance (issue 21): a SUSHI base URL,
a federation metadata URL, an ISO 18626 peer endpoint, a delivery URL in a supplier's
CopyCompleted and a webhook are all addresses someone else chose. So each of them:

- resolves the host here and refuses loopback, private, link-local, multicast, reserved and
  carrier-grade NAT addresses, unless the caller says this target was allowed by an admin
  (`allow_internal=True`) or the address is in `settings.OUTBOUND_ALLOWED_NETWORKS`
  (`LIFELINE_OUTBOUND_ALLOW`, e.g. a campus repository on 10.0.0.0/8);
- connects to the address that was checked (the URL is pinned to it; the Host header and TLS
  SNI keep the name, and the certificate is checked against the name), so DNS rebinding between
  the check and the connection cannot slip through;
- follows redirects itself, checking every hop the same way, at most `max_redirects`;
- reads at most `max_bytes` (refused or truncated beyond) within `timeout` seconds in all;
  with `idle_timeout`, each step (connecting, each read) must also progress within that many
  seconds (a large SUSHI report may take minutes in all, a silent server is given up at once).

With `keep_alive=True` (ISO 18626 messages and the documents they point to: many small
exchanges with the same few peers) the connection is kept open and reused; every call still
checks and pins the address. Plain HTTP goes through `outbound_plain` (the standard library's
client, connections kept per checked address: a fifth of httpx's CPU per exchange); TLS without
redirects through one pooled httpx client per process, scheme, host name and TLS setting, so a
kept TLS connection is only ever reused for the name its certificate was checked against.

The health prober is the one other way out: it is asynchronous (aiohttp, issue 3's CPU budget)
and applies the same `is_internal` rule through `lifeline.health.logic.targets`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from lifeline.core import outbound_plain

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Ranges `ipaddress` does not call private but that are not the public internet either.
EXTRA_INTERNAL = [ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("192.0.0.0/24")]
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_MAX_BYTES = 10 * 2**20
USER_AGENT = "Lifeline/1.0 (+library resource services)"


class OutboundError(Exception):
    """The fetch did not happen or did not finish; `str()` is a message staff can read."""


class OutboundRefused(OutboundError):
    """The target is not one we may reach (internal address, bad scheme, too many redirects)."""


class OutboundTooLarge(OutboundError):
    """The answer is larger than the caller allowed."""


class OutboundFailed(OutboundError):
    """Network trouble: the name does not resolve, the connection failed or timed out."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


@dataclass
class FetchResult:
    url: str  # the last URL fetched (after redirects), with the host name, not the address
    status: int
    headers: httpx.Headers
    content: bytes
    address: str  # the address connected to for the last hop
    truncated: bool = False
    redirects: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        return self.content.decode("utf-8-sig", errors="replace")


def is_internal(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in net for net in EXTRA_INTERNAL)
    )


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(net.strip(), strict=False)
        for net in getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", [])
        if net.strip()
    ]


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address of `host`; tests replace this to give example names a public address."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundFailed(
            _("The name %(host)s does not resolve (%(error)s).") % {"host": host, "error": exc}
        ) from exc
    seen: list[IPAddress] = []
    for *_rest, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    if not seen:
        raise OutboundFailed(_("The name %(host)s does not resolve.") % {"host": host})
    return seen


@lru_cache(maxsize=512)
def _parse(url: str) -> httpx.URL:
    """httpx's URL parser costs ~0.1 ms a call and a fetch needs the same URL twice (here and
    in `check_target`), a peer's endpoint with every message; `httpx.URL` is immutable."""
    return httpx.URL(url)


def check_target(url: str, *, allow_internal: bool = False) -> IPAddress:
    """The address `url` may be fetched from, or `OutboundRefused` saying why not.

    Used by forms too, so a staff member who types `http://127.0.0.1/` hears it at once."""
    try:
        parsed = _parse(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise OutboundRefused(_("This is not a valid address: %(error)s") % {"error": exc}) from exc
    if parsed.scheme not in ("http", "https"):
        raise OutboundRefused(_("Only http and https addresses can be fetched."))
    if not parsed.host:
        raise OutboundRefused(_("The address has no host name."))
    if parsed.userinfo:
        raise OutboundRefused(_("Addresses with a user name or password in them are refused."))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = resolve_host(parsed.host, port)
    if not allow_internal:
        extra = allowed_networks()
        bad = [
            str(ip)
            for ip in addresses
            if is_internal(ip) and not any(ip in net for net in extra if ip.version == net.version)
        ]
        if bad:
            raise OutboundRefused(
                _(
                    "%(host)s resolves to an internal address (%(addresses)s); an administrator "
                    "must allow internal targets for it."
                )
                % {"host": parsed.host, "addresses": ", ".join(bad)}
            )
    return addresses[0]


def _pinned(url: httpx.URL, ip: IPAddress) -> tuple[httpx.URL, str]:
    """The URL with its host replaced by the checked address, and the Host header value."""
    # An IPv6 literal keeps its brackets in Host (RFC 9110 §7.2); without them "::1:8080" is
    # read as an address, not an address and a port.
    name = f"[{url.host}]" if ":" in url.host else url.host
    host_header = name if url.port is None else f"{name}:{url.port}"
    return url.copy_with(host=str(ip)), host_header


@lru_cache(maxsize=32)
def _ssl_context(verify: bool | str, cert: tuple[str, str] | None) -> ssl.SSLContext | bool:
    # Built once per (CA file, client certificate): loading the CA bundle costs milliseconds per
    # call, which capped ISO 18626 round trips; a client-side SSLContext is safe to share.
    if verify is False:
        return False
    import certifi

    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if not isinstance(verify, str):
        context.load_verify_locations(certifi.where())
    if cert:
        context.load_cert_chain(cert[0], cert[1])
    return context


_POOLS: dict[tuple[Any, ...], httpx.Client] = {}
_POOLS_LOCK = threading.Lock()
_POOLS_MAX = 64


def _pooled(key: tuple[Any, ...], tls: ssl.SSLContext | bool) -> httpx.Client:
    """The kept-alive client for `key` (scheme, host name, TLS setting), made once per process.

    Building an httpx client costs milliseconds (its transport and pool), more than a small
    message's whole exchange on loopback; httpx clients are safe to share between threads."""
    client = _POOLS.get(key)
    if client is not None:
        return client
    with _POOLS_LOCK:
        client = _POOLS.get(key)
        if client is None:
            if len(_POOLS) >= _POOLS_MAX:
                _POOLS.pop(next(iter(_POOLS))).close()
            client = httpx.Client(
                verify=tls,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
            _POOLS[key] = client
    return client


def fetch(
    url: str,
    *,
    method: str = "GET",
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    content: bytes | str | None = None,
    allow_internal: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    truncate: bool = False,
    timeout: float = 30.0,
    idle_timeout: float | None = None,
    max_redirects: int = 5,
    follow_redirects: bool = True,
    verify: bool | str = True,
    cert: tuple[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    on_chunk: Callable[[int], None] | None = None,
    keep_alive: bool = False,
) -> FetchResult:
    """Fetch `url` under the rules above. Raises an `OutboundError` subclass, never httpx's."""
    started = time.monotonic()
    deadline = started + timeout
    step = min(timeout, idle_timeout) if idle_timeout else timeout
    current = httpx.URL(url, params=params) if params else _parse(url)
    send_headers: dict[str, str] = {"User-Agent": USER_AGENT, **(headers or {})}
    body = content
    hops: list[str] = []
    tls: ssl.SSLContext | bool = _ssl_context(verify, cert) if transport is None else True
    # Kept plain-HTTP hops go through `outbound_plain` (the standard library's client, a
    # connection per checked address); TLS and test transports through httpx. A kept TLS
    # connection must serve only the name it was checked for: with redirects (to any name) TLS
    # is not pooled.
    plain = keep_alive and transport is None
    pooled_tls = plain and current.scheme == "https" and not follow_redirects
    with contextlib.ExitStack() as stack:
        client: httpx.Client | None = None
        while True:
            ip = check_target(str(current), allow_internal=allow_internal)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OutboundFailed(
                    _("No answer within %(s)s seconds.") % {"s": timeout}, timeout=True
                )
            response: httpx.Response | outbound_plain.PlainResponse
            if plain and current.scheme == "http":
                response = _send_plain(
                    method, current, ip, send_headers, body, remaining, step, timeout
                )
            else:
                if client is None:
                    client = (
                        _pooled((current.scheme, current.host, current.port, verify, cert), tls)
                        if pooled_tls
                        else stack.enter_context(
                            httpx.Client(
                                transport=transport,
                                verify=tls,
                                follow_redirects=False,
                                timeout=httpx.Timeout(step, connect=min(step, 10.0)),
                                # An environment proxy would connect to the name, not the
                                # pinned address.
                                trust_env=False,
                            )
                        )
                    )
                response = _send_httpx(
                    client, method, current, ip, send_headers, body, (remaining, step, timeout),
                    transport,
                )  # fmt: skip
            try:
                if follow_redirects and response.status_code in REDIRECTS:
                    location = response.headers.get("location")
                    if location:
                        if len(hops) >= max_redirects:
                            raise OutboundRefused(
                                _("More than %(n)s redirects.") % {"n": max_redirects}
                            )
                        hops.append(str(current))
                        following = current.join(location)
                        if (following.scheme, following.host, following.port) != (
                            current.scheme,
                            current.host,
                            current.port,
                        ):
                            # Credentials never follow a redirect to another origin.
                            send_headers = {
                                k: v
                                for k, v in send_headers.items()
                                if k.lower() not in ("authorization", "cookie")
                                and not k.lower().startswith("x-")
                            }
                        if response.status_code == 303 or (
                            response.status_code in (301, 302) and method == "POST"
                        ):
                            method, body = "GET", None
                        current = following
                        continue
                data, truncated = _read(response, max_bytes, truncate, deadline, timeout, on_chunk)
                return FetchResult(
                    url=str(current),
                    status=response.status_code,
                    headers=response.headers,
                    content=data,
                    address=str(ip),
                    truncated=truncated,
                    redirects=hops,
                    elapsed=time.monotonic() - started,
                )
            finally:
                response.close()


def _send_plain(
    method: str,
    url: httpx.URL,
    ip: IPAddress,
    headers: dict[str, str],
    body: bytes | str | None,
    remaining: float,
    step: float,
    total: float,
) -> outbound_plain.PlainResponse:
    """One plain-HTTP hop on a kept connection to the checked address."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    try:
        return outbound_plain.send(method, url, str(ip), headers, data, min(remaining, step))
    except TimeoutError as exc:
        raise OutboundFailed(
            _("No answer within %(s)s seconds.") % {"s": total}, timeout=True
        ) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # ValueError: a header or path http.client will not put on the wire.
        raise OutboundFailed(
            _("Could not connect to %(host)s (%(error)s).")
            % {"host": url.host, "error": exc.__class__.__name__}
        ) from exc


def _send_httpx(
    client: httpx.Client,
    method: str,
    current: httpx.URL,
    ip: IPAddress,
    send_headers: dict[str, str],
    body: bytes | str | None,
    times: tuple[float, float, float],
    transport: httpx.BaseTransport | None,
) -> httpx.Response:
    remaining, step, total = times  # seconds left, each step's timeout, the caller's timeout
    request_url, host_header = current, ""
    extensions: dict[str, Any] = {}
    if transport is None:
        # Pinning: connect to the checked address; Host and SNI keep the name.
        request_url, host_header = _pinned(current, ip)
        if current.scheme == "https":
            extensions["sni_hostname"] = current.host
    hop_headers = dict(send_headers)
    if host_header:
        hop_headers["Host"] = host_header
    request = client.build_request(
        method,
        request_url,
        headers=hop_headers,
        content=body,
        extensions={**extensions, "timeout": httpx.Timeout(min(remaining, step)).as_dict()},
    )
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException as exc:
        raise OutboundFailed(
            _("No answer within %(s)s seconds.") % {"s": total}, timeout=True
        ) from exc
    except httpx.HTTPError as exc:
        raise OutboundFailed(
            _("Could not connect to %(host)s (%(error)s).")
            % {"host": current.host, "error": exc.__class__.__name__}
        ) from exc


def _read(
    response: httpx.Response | outbound_plain.PlainResponse,
    max_bytes: int,
    truncate: bool,
    deadline: float,
    timeout: float,
    on_chunk: Callable[[int], None] | None,
) -> tuple[bytes, bool]:
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes and not truncate:
        raise OutboundTooLarge(
            _("The answer is %(size)s bytes; at most %(max)s are accepted.")
            % {"size": declared, "max": max_bytes}
        )
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                if truncate:
                    chunks.append(chunk[: max_bytes - (size - len(chunk))])
                    return b"".join(chunks), True
                raise OutboundTooLarge(
                    _("The answer is larger than %(max)s bytes.") % {"max": max_bytes}
                )
            chunks.append(chunk)
            if on_chunk:
                on_chunk(size)
            if time.monotonic() > deadline:
                raise OutboundFailed(
                    _("No complete answer within %(s)s seconds.") % {"s": timeout}, timeout=True
                )
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise OutboundFailed(
            _("No complete answer within %(s)s seconds.") % {"s": timeout}, timeout=True
        ) from exc
    except (httpx.HTTPError, OSError, http.client.HTTPException, zlib.error) as exc:
        raise OutboundFailed(
            _("The answer broke off (%(error)s).") % {"error": exc.__class__.__name__}
        ) from exc
    return b"".join(chunks), False
