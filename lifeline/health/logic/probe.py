"""One HTTP(S) probe of one access route, asynchronous, bounded in time and bytes.

A probe never raises: every way a request can go wrong becomes a classified `ProbeOutcome`
(the prober must survive a 5 GB body, a redirect loop or a host that does not exist).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
import certifi

from lifeline.health.choices import DEGRADING, FailureKind, HealthState
from lifeline.health.logic.carsi import LEGS, leg_of, run_carsi
from lifeline.health.logic.signatures import library as signature_library
from lifeline.health.logic.targets import ResolveFailed, TargetRefused, checked_address

# aiohttp logs client trouble (unclosed sessions, bad chunks) at DEBUG/WARNING per request: at
# thousands of probes a minute only real errors belong in the log.
logging.getLogger("aiohttp.client").setLevel(logging.ERROR)

USER_AGENT = "Lifeline-AccessProbe/1.0 (+library access monitoring)"
REDIRECT_CODES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class ProbeSpec:
    config_id: int
    route_id: int
    url: str
    timeout: float = 15.0
    statuses: tuple[tuple[int, int], ...] = ((200, 299),)
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    max_redirects: int = 5
    slow_ms: int = 5000
    cert_warning_days: int = 14
    allow_internal: bool = False
    via_proxy: bool = False
    due_at: dt.datetime | None = None
    # The route's state when it was claimed, to tell a result that changes it (recorded at once).
    known_state: str = ""
    pending_state: str = ""
    pending_count: int = 0
    retries: int = 0
    # The key of the resource's vendor: when it names a platform of the failure-signature
    # library, that platform's signatures apply whatever the host (a proxied or loopback URL).
    platform: str = ""
    # A CARSI route followed end to end from its WAYFless URL (`carsi.run_carsi`).
    carsi: bool = False

    def changes_state(self, outcome: ProbeOutcome) -> bool:
        """Whether recording this result will change the route's state (the rule of
        `states.apply_outcome`: the first result, or the last of `retries` confirming ones)."""
        if outcome.state == self.known_state:
            return False
        if self.known_state in {"", HealthState.UNKNOWN}:
            return True
        count = self.pending_count + 1 if self.pending_state == outcome.state else 1
        return count > self.retries


@dataclass
class ProbeOutcome:
    spec: ProbeSpec
    started_at: dt.datetime
    state: str = HealthState.UP
    failure: str = FailureKind.NONE
    error: str = ""
    status_code: int | None = None
    response_ms: int | None = None
    cert_expires_at: dt.datetime | None = None
    address: str = ""
    final_url: str = ""
    body_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def fail(self, failure: str, error: str) -> ProbeOutcome:
        self.failure = failure
        self.error = error[:500]
        self.state = HealthState.DEGRADED if failure in DEGRADING else HealthState.DOWN
        return self


@dataclass
class Probers:
    """The HTTP client of one batch or one worker: an aiohttp session, direct or via the proxy.

    aiohttp rather than httpx: its C HTTP parser and plain-asyncio connector cost about a third of
    httpx's CPU per request (httpcore's pool, anyio and h11 are pure Python), and the prober makes
    ~170 requests a second at 10,000 routes.
    """

    session: aiohttp.ClientSession
    proxy: str
    max_body: int

    @classmethod
    def open(
        cls, *, proxy: str = "", ca_bundle: str = "", max_body: int = 2 * 1024 * 1024
    ) -> Probers:
        """Must be called inside the event loop that will use it (aiohttp binds to the loop)."""
        # One TLS context for every probe: loading a CA bundle costs ~70 ms of CPU per context.
        verify = ssl.create_default_context(cafile=ca_bundle or certifi.where())
        # No keep-alive: each probe measures a fresh connection, and a TLS connection made for one
        # host name is never reused for another name on the same (pinned) address.
        connector = aiohttp.TCPConnector(limit=0, force_close=True, ssl=verify, use_dns_cache=False)
        session = aiohttp.ClientSession(
            connector=connector,
            # Cookies are carried by hand along one probe's redirects, never between probes.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            # The probe's own asyncio.timeout bounds the whole request; no second set of timers.
            timeout=aiohttp.ClientTimeout(total=None),
            # Vendors' login walls send long Set-Cookie and CSP headers: 8 KB (the default) is
            # too short.
            max_line_size=65536,
            max_field_size=65536,
            response_class=_Response,
        )
        return cls(session=session, proxy=proxy, max_body=max_body)

    def via(self, spec: ProbeSpec) -> str | None:
        """The proxy to go through, or None to connect directly (to the checked address)."""
        return self.proxy if spec.via_proxy and self.proxy else None

    async def aclose(self) -> None:
        await self.session.close()


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """Map an aiohttp/OS error to a failure kind, looking through the chain of causes."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    # The innermost cause says what happened ("Connect call failed"), the outer ones repeat it.
    root = chain[-1]
    text = (f"{type(root).__name__}: {root}" if str(root) else type(root).__name__)[:500]
    if isinstance(exc, TimeoutError):
        return FailureKind.TIMEOUT, text or "timed out"
    if (
        any(isinstance(e, ssl.SSLError) for e in chain)
        or "CERTIFICATE_VERIFY_FAILED" in text
        or "SSL" in text
    ):
        return FailureKind.TLS, text
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text.lower():
        return FailureKind.REFUSED, text
    # ClientConnectorError and ClientOSError are OSErrors; a server that hangs up or answers
    # something that is not HTTP (ServerDisconnectedError, ClientResponseError) is PROTOCOL.
    if isinstance(exc, OSError):
        return FailureKind.CONNECT, text
    return FailureKind.PROTOCOL, text


def _decode(body: bytes, charset: str | None) -> str:
    # Chinese vendors still serve GBK pages; a login wall in GB18030 must be recognised too.
    for encoding in (charset, "utf-8", "gb18030"):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


class _Response(aiohttp.ClientResponse):
    """A response that keeps the server's certificate: aiohttp lets the connection go as soon as
    a short body has arrived, so the TLS object must be read when the response starts."""

    peer_cert: dict[str, Any] | None = None

    async def start(self, connection: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        transport = connection.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is not None:
            self.peer_cert = ssl_object.getpeercert()
        return await super().start(connection)


def _peer_cert_expiry(response: aiohttp.ClientResponse) -> dt.datetime | None:
    cert = getattr(response, "peer_cert", None)
    if not cert or "notAfter" not in cert:
        return None
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), tz=dt.UTC)


async def probe(spec: ProbeSpec, probers: Probers) -> ProbeOutcome:
    outcome = ProbeOutcome(spec=spec, started_at=dt.datetime.now(dt.UTC))
    began = time.monotonic()
    try:
        async with asyncio.timeout(spec.timeout):
            if spec.carsi:
                await run_carsi(spec, probers, outcome)
            else:
                await _run(spec, probers, outcome)
    except TimeoutError:
        outcome.fail(FailureKind.TIMEOUT, f"no complete answer within {spec.timeout:g} s")
        if spec.carsi:
            outcome.error = f"{LEGS[leg_of(outcome)]}: {outcome.error}"
    except Exception as exc:  # a probe must never take the prober down
        outcome.fail(*classify_exception(exc))
    outcome.response_ms = int((time.monotonic() - began) * 1000)
    if outcome.state == HealthState.UP and outcome.response_ms > spec.slow_ms:
        outcome.fail(
            FailureKind.SLOW, f"answered in {outcome.response_ms} ms (slow above {spec.slow_ms} ms)"
        )
    return outcome


async def _run(spec: ProbeSpec, probers: Probers, outcome: ProbeOutcome) -> None:
    url = spec.url
    cookies: dict[str, str] = {}
    proxy = probers.via(spec)
    session = probers.session
    for hop in range(spec.max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            outcome.fail(
                FailureKind.PROTOCOL, f"cannot probe {url[:200]!r}: only http and https addresses"
            )
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = await checked_address(parts.hostname, port, spec.allow_internal)
        except TargetRefused as exc:
            outcome.fail(
                FailureKind.FORBIDDEN_TARGET,
                f"{parts.hostname} resolves to an internal address ({exc})",
            )
            return
        except ResolveFailed as exc:
            outcome.fail(FailureKind.DNS, f"{parts.hostname}: {exc}")
            return
        outcome.address = str(address)
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "text/html,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
        }
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        request_url = url
        server_hostname: str | None = None
        if proxy is None:
            # Connect to the address that was checked, not to whatever the name resolves to next;
            # the name still goes in Host and, for HTTPS, in SNI and the certificate check.
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            literal = f"[{address}]" if address.version == 6 else str(address)
            request_url = urlunsplit(
                (parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, "")
            )
            if parts.scheme == "https":
                server_hostname = parts.hostname
        response = await session.get(
            request_url,
            headers=headers,
            allow_redirects=False,
            proxy=proxy,
            server_hostname=server_hostname,
        )
        try:
            outcome.status_code = response.status
            outcome.final_url = url
            for raw in response.headers.getall("Set-Cookie", ()):
                name, _sep, rest = raw.partition("=")
                if name.strip():
                    cookies[name.strip()] = rest.split(";", 1)[0].strip()
            expected = any(low <= response.status <= high for low, high in spec.statuses)
            location = response.headers.get("Location")
            if response.status in REDIRECT_CODES and location and not expected:
                if hop == spec.max_redirects:
                    outcome.fail(
                        FailureKind.REDIRECTS,
                        f"more than {spec.max_redirects} redirects (last to {location[:200]})",
                    )
                    return
                url = urljoin(url, location)
                continue
            if parts.scheme == "https":
                outcome.cert_expires_at = _peer_cert_expiry(response)
            body, too_large = await _read_capped(response, probers.max_body)
            outcome.body_bytes = len(body)
            _judge(spec, outcome, response, body, too_large)
            return
        finally:
            # Drops the connection (never reused) and whatever of the body was not read.
            response.close()


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """At most `cap` bytes of the (decoded) body, and whether there was more."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await response.content.read(cap + 1 - total)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            return b"".join(chunks)[:cap], True


def _judge(
    spec: ProbeSpec,
    outcome: ProbeOutcome,
    response: aiohttp.ClientResponse,
    body: bytes,
    too_large: bool,
) -> None:
    if not any(low <= response.status <= high for low, high in spec.statuses):
        outcome.fail(FailureKind.STATUS, f"HTTP {response.status} {response.reason or ''}".strip())
        return
    if not _judge_page(spec, outcome, _decode(body, response.charset), len(body)):
        return
    if too_large:
        outcome.fail(FailureKind.TOO_LARGE, f"body larger than {len(body)} bytes; stopped reading")
        return
    if outcome.cert_expires_at is not None:
        left = outcome.cert_expires_at - outcome.started_at
        if left < dt.timedelta(days=spec.cert_warning_days):
            outcome.fail(
                FailureKind.CERT_EXPIRING, f"certificate expires {outcome.cert_expires_at:%Y-%m-%d}"
            )


def _judge_text(
    spec: ProbeSpec, outcome: ProbeOutcome, status: int, reason: str, decoded: str, url: str
) -> None:
    """The same judgement for a page already read as text (the CARSI probe's last leg)."""
    outcome.final_url = url
    if not any(low <= status <= high for low, high in spec.statuses):
        outcome.fail(FailureKind.STATUS, f"HTTP {status} {reason}".strip())
        return
    _judge_page(spec, outcome, decoded, outcome.body_bytes)


def _judge_page(spec: ProbeSpec, outcome: ProbeOutcome, decoded: str, size: int) -> bool:
    """The route's own phrases, then its platform's failure signatures; False once failed."""
    text = decoded.casefold() if (spec.must_contain or spec.must_not_contain) else ""
    for phrase in spec.must_not_contain:
        if phrase.casefold() in text:
            outcome.fail(FailureKind.KEYWORD_FORBIDDEN, f"the page says “{phrase}”")
            return False
    # The platform's known failure pages, on top of the route's own phrases.
    matcher = signature_library().matcher(spec.url, outcome.final_url, platform=spec.platform)
    found = matcher.search(decoded)
    if found is not None:
        signature = found.signature
        outcome.fail(
            FailureKind.KEYWORD_FORBIDDEN,
            f"{signature.meaning} (signature {signature.label} {found.version}: “{found.found}”)",
        )
        if signature.state == HealthState.DEGRADED:
            outcome.state = HealthState.DEGRADED
        outcome.notes.append(f"signature {signature.label}")
        return False
    for phrase in spec.must_contain:
        if phrase.casefold() not in text:
            outcome.fail(
                FailureKind.KEYWORD_MISSING, f"“{phrase}” not found in the first {size} bytes"
            )
            return False
    return True


async def probe_all(
    specs: list[ProbeSpec], probers: Probers, concurrency: int = 200
) -> list[ProbeOutcome]:
    gate = asyncio.Semaphore(concurrency)

    async def one(spec: ProbeSpec) -> ProbeOutcome:
        async with gate:
            return await probe(spec, probers)

    return list(await asyncio.gather(*(one(s) for s in specs)))
